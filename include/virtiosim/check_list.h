/* virtiosim/check_list.h — the check catalog as one X-macro list.
 *
 * Owns: every check's id, the normative label it enforces, MUST/SHOULD, which
 * side it judges (the driver or the device), and what it needs to observe
 * (ACCESS: per-access events, only in-process; SNAPSHOT: arena snapshots and
 * notifications, works for out-of-process backends too). One list so that the
 * enum, the table and `virtio-sim checks` can never disagree.
 *
 * X(ENUM, "id", LABEL, SEVERITY, SIDE, OBSERVES, "what it checks")
 */
#ifndef VIRTIOSIM_CHECK_LIST_H
#define VIRTIOSIM_CHECK_LIST_H

#define VSIM_L_STATUS_DRV "drivernormative:Basic Facilities of a Virtio Device / Device Status Field"
#define VSIM_L_STATUS_DEV "devicenormative:Basic Facilities of a Virtio Device / Device Status Field"
#define VSIM_L_FEAT_DRV "drivernormative:Basic Facilities of a Virtio Device / Feature Bits"
#define VSIM_L_FEAT_DEV "devicenormative:Basic Facilities of a Virtio Device / Feature Bits"
#define VSIM_L_RESV_DRV "drivernormative:Reserved Feature Bits"
#define VSIM_L_RESV_DEV "devicenormative:Reserved Feature Bits"
#define VSIM_L_INIT_DRV "drivernormative:General Initialization And Device Operation / Device Initialization"
#define VSIM_L_CLEANUP_DRV "drivernormative:General Initialization And Device Operation / Device Cleanup"
#define VSIM_L_RESET_DEV "devicenormative:Basic Facilities of a Virtio Device / Device Reset"
#define VSIM_L_VQ_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues"
#define VSIM_L_FRAMING_DRV "drivernormative:Basic Facilities of a Virtio Device / Message Framing"
#define VSIM_L_DESC_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Descriptor Table"
#define VSIM_L_DESC_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Descriptor Table"
#define VSIM_L_INDIR_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Descriptor Table / Indirect Descriptors"
#define VSIM_L_AVAIL_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Available Ring"
#define VSIM_L_USEDSUP_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / Used Buffer Notification Suppression"
#define VSIM_L_USEDSUP_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / Used Buffer Notification Suppression"
#define VSIM_L_USED_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Used Ring"
#define VSIM_L_AVAILSUP_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / Available Buffer Notification Suppression"
#define VSIM_L_AVAILSUP_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / Available Buffer Notification Suppression"
#define VSIM_L_PVQ_DRV "drivernormative:Basic Facilities of a Virtio Device / Packed Virtqueues"
#define VSIM_L_PVQ_DEV "devicenormative:Basic Facilities of a Virtio Device / Packed Virtqueues"
#define VSIM_L_PDESC_DRV "drivernormative:Basic Facilities of a Virtio Device / PAcked Virtqueues / The Virtqueue Descriptor Table"
#define VSIM_L_PDESC_DEV "devicenormative:Basic Facilities of a Virtio Device / Packed Virtqueues / The Virtqueue Descriptor Table"
#define VSIM_L_PSG_DRV "drivernormative:Basic Facilities of a Virtio Device / Packed Virtqueues / Scatter-Gather Support"
#define VSIM_L_PINDIR_DRV "drivernormative:Basic Facilities of a Virtio Device / Packed Virtqueues / The Virtqueue Descriptor Table / Indirect Descriptors"
#define VSIM_L_PKICK_DRV "drivernormative:Basic Facilities of a Virtio Device / Packed Virtqueues / Supplying Buffers to The Device / Sending Available Buffer Notifications"
#define VSIM_L_BLK_INIT_DEV "devicenormative:Device Types / Block Device / Device Initialization"
#define VSIM_L_QRESET_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / Virtqueue Reset / Virtqueue Reset"
#define VSIM_L_QRESET_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / Virtqueue Reset / Virtqueue Reset"
#define VSIM_L_CFG_DRV "drivernormative:Basic Facilities of a Virtio Device / Device Configuration Space"
#define VSIM_L_MMIO_DEV "devicenormative:Virtio Transport Options / Virtio Over MMIO / MMIO Device Register Layout"
#define VSIM_L_MMIO_DRV "drivernormative:Virtio Transport Options / Virtio Over MMIO / MMIO Device Register Layout"
#define VSIM_L_PCI_LAYOUT_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout"
#define VSIM_L_PCI_COMMON_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / Common configuration structure layout"
#define VSIM_L_PCI_COMMON_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / Common configuration structure layout"
#define VSIM_L_PCI_NOTIFY_CAP_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / Notification capability"
#define VSIM_L_PCI_NOTIFY_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Available Buffer Notifications"
#define VSIM_L_PCI_CAPS_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / Virtio Structure PCI Capabilities"
#define VSIM_L_PCI_ISR_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / ISR status capability"
#define VSIM_L_PCI_ISR_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / ISR status capability"
#define VSIM_L_PCI_DEVCFG_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / Device-specific configuration"
#define VSIM_L_PCI_MSIX_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Device Initialization / MSI-X Vector Configuration"
#define VSIM_L_PCI_MSIX_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Device Initialization / MSI-X Vector Configuration"
#define VSIM_L_PCI_USED_NOTIFY_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Used Buffer Notifications"
#define VSIM_L_PCI_CFGCAP_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / PCI configuration access capability"
#define VSIM_L_PCI_CFGCAP_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Layout / PCI configuration access capability"
#define VSIM_L_PCI_DISCOVERY_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI Device Discovery"
#define VSIM_L_PCI_CAPS_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / Virtio Structure PCI Capabilities"
#define VSIM_L_PCI_CFGCHG_DEV "devicenormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Notification of Device Configuration Changes"
#define VSIM_L_PCI_CFGCHG_DRV "drivernormative:Virtio Transport Options / Virtio Over PCI Bus / PCI-specific Initialization And Device Operation / Notification of Device Configuration Changes"
#define VSIM_L_BLK_DRV "drivernormative:Device Types / Block Device / Device Operation"
#define VSIM_L_BLK_DEV "devicenormative:Device Types / Block Device / Device Operation"
#define VSIM_L_NET_CFG_DEV "devicenormative:Device Types / Network Device / Device configuration layout"
#define VSIM_L_NET_CFG_DRV "drivernormative:Device Types / Network Device / Device configuration layout"
#define VSIM_L_NET_TX_DRV "drivernormative:Device Types / Network Device / Device Operation / Packet Transmission"
#define VSIM_L_NET_RXBUF_DRV "drivernormative:Device Types / Network Device / Device Operation / Setting Up Receive Buffers"
#define VSIM_L_NET_TX_DEV "devicenormative:Device Types / Network Device / Device Operation / Packet Transmission"
#define VSIM_L_NET_RX_DEV "devicenormative:Device Types / Network Device / Device Operation / Processing of Incoming Packets"
#define VSIM_L_NET_RXF_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Packet Receive Filtering"
#define VSIM_L_NET_RXF_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / Packet Receive Filtering"
#define VSIM_L_NET_MAC_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / Setting MAC Address Filtering"
#define VSIM_L_NET_MAC_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Setting MAC Address Filtering"
#define VSIM_L_NET_ANN_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / Gratuitous Packet Sending"
#define VSIM_L_NET_MQ_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Automatic receive steering in multiqueue mode"
#define VSIM_L_NET_MQ_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / Automatic receive steering in multiqueue mode"
/* virtio-gpu: the spec's fence, response-type and event rules sit in the
 * "Request header" and "Device configuration layout" descriptions; the
 * normative sections that cover them are these two. */
#define VSIM_L_GPU_INIT_DEV "devicenormative:Device Types / GPU Device / Device Initialization"
#define VSIM_L_GPU_FENCE_DEV "devicenormative:Device Types / GPU Device / Device Operation / Device Operation: Command lifecycle and fencing"
/* The vhost-user protocol (QEMU's docs/interop/vhost-user.rst) has no
 * normative index: its checks cite "vhost-user:<section title>", the
 * section of that document that states the rule (tests/py/test_catalog.py
 * lists the sections allowed). They judge an out-of-process back-end's
 * side of the protocol, from the messages it sends. */
#define VSIM_L_VU_HEADER "vhost-user:Message Specification / Header"
#define VSIM_L_VU_PAYLOAD "vhost-user:Message Specification / Payload"
#define VSIM_L_VU_COMM "vhost-user:Communication"
#define VSIM_L_VU_ACK "vhost-user:VHOST_USER_PROTOCOL_F_REPLY_ACK"
#define VSIM_L_VU_CONFIG "vhost-user:Front-end message types / VHOST_USER_GET_CONFIG"
#define VSIM_L_RESET_DRV "drivernormative:Basic Facilities of a Virtio Device / Device Reset"
#define VSIM_L_QREENABLE_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / Virtqueue Reset / Virtqueue Re-enable"
#define VSIM_L_MMIO_INIT_DRV "drivernormative:Virtio Transport Options / Virtio Over MMIO / MMIO-specific Initialization And Device Operation / Device Initialization"
#define VSIM_L_MMIO_IRQ_DRV "drivernormative:Virtio Transport Options / Virtio Over MMIO / MMIO-specific Initialization And Device Operation / Notifications From The Device"
#define VSIM_L_CON_INIT_DEV "devicenormative:Device Types / Console Device / Device Initialization"
#define VSIM_L_CON_OP_DRV "drivernormative:Device Types / Console Device / Device Operation"
#define VSIM_L_CON_MP_DEV "devicenormative:Device Types / Console Device / Device Operation / Multiport Device Operation"
#define VSIM_L_CON_MP_DRV "drivernormative:Device Types / Console Device / Device Operation / Multiport Device Operation"
#define VSIM_L_INPUT_INIT_DRV "drivernormative:Device Types / Input Device / Device Initialization"
#define VSIM_L_INPUT_INIT_DEV "devicenormative:Device Types / Input Device / Device Initialization"
#define VSIM_L_INPUT_OP_DRV "drivernormative:Device Types / Input Device / Device Operation"
#define VSIM_L_INPUT_OP_DEV "devicenormative:Device Types / Input Device / Device Operation"
#define VSIM_L_NET_COAL_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Notifications Coalescing"
#define VSIM_L_NET_COAL_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / Notifications Coalescing"
#define VSIM_L_NET_RXBUF_DEV "devicenormative:Device Types / Network Device / Device Operation / Setting Up Receive Buffers"
#define VSIM_L_NET_ANN_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Gratuitous Packet Sending"
#define VSIM_L_NET_OFFL_DRV "drivernormative:Device Types / Network Device / Device Operation / Control Virtqueue / Offloads State Configuration / Setting Offloads State"
#define VSIM_L_FRAMING_DEV "devicenormative:Basic Facilities of a Virtio Device / Message Framing"
#define VSIM_L_CFG_DEV "devicenormative:Basic Facilities of a Virtio Device / Device Configuration Space"
#define VSIM_L_INDIR_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Descriptor Table / Indirect Descriptors"
#define VSIM_L_BLK_INIT_DRV "drivernormative:Device Types / Block Device / Device Initialization"
#define VSIM_L_GPU_CTRL_DRV "drivernormative:Device Types / GPU Device / Device Operation / Device Operation: controlq"
#define VSIM_L_GPU_CTRL3D_DRV "drivernormative:Device Types / GPU Device / Device Operation / Device Operation: controlq (3d)"
#define VSIM_L_NET_VLAN_DEV "devicenormative:Device Types / Network Device / Device Operation / Control Virtqueue / VLAN Filtering"
#define VSIM_L_QREENABLE_DEV "devicenormative:Basic Facilities of a Virtio Device / Virtqueues / Virtqueue Reset / Virtqueue Re-enable"
#define VSIM_L_UPDIDX_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / Supplying Buffers to The Device / Updating idx"

/* clang-format off */
#define VSIM_CHECK_LIST(X) \
  /* status and feature negotiation */ \
  X(FEAT_DEV_VERSION1,   "feat.dev-version1",        VSIM_L_RESV_DEV,   MUST,   DEVICE, SNAPSHOT, "device offers VIRTIO_F_VERSION_1") \
  X(FEAT_DRV_VERSION1,   "feat.drv-version1",        VSIM_L_RESV_DRV,   MUST,   DRIVER, SNAPSHOT, "driver accepts VIRTIO_F_VERSION_1 when offered") \
  X(FEAT_DRV_UNOFFERED,  "feat.drv-unoffered",       VSIM_L_FEAT_DRV,   MUST,   DRIVER, SNAPSHOT, "driver accepts only features the device offered") \
  X(FEAT_DRV_AFTER_OK,   "feat.drv-after-features-ok", VSIM_L_INIT_DRV, MUST,   DRIVER, SNAPSHOT, "driver accepts no new feature bits after FEATURES_OK") \
  X(STATUS_DRV_ORDER,    "status.drv-order",         VSIM_L_INIT_DRV,   MUST,   DRIVER, SNAPSHOT, "driver sets status bits in the initialisation order") \
  X(STATUS_DRV_CLEAR,    "status.drv-clear-bit",     VSIM_L_STATUS_DRV, MUST,   DRIVER, SNAPSHOT, "driver never clears a device status bit (except by reset)") \
  X(STATUS_DRV_REREAD,   "status.drv-features-ok-reread", VSIM_L_INIT_DRV, MUST, DRIVER, SNAPSHOT, "driver re-reads status after setting FEATURES_OK, before DRIVER_OK") \
  X(STATUS_DRV_FAILED,   "status.drv-continue-after-refusal", VSIM_L_INIT_DRV, MUST, DRIVER, SNAPSHOT, "driver stops initialisation when FEATURES_OK is refused") \
  X(CONFIG_DRV_EARLY_WRITE, "config.drv-write-before-features-ok", VSIM_L_INIT_DRV, MUST, DRIVER, SNAPSHOT, "driver writes no device-specific configuration field before FEATURES_OK") \
  X(CONFIG_DRV_GENERATION, "config.drv-no-generation-loop", VSIM_L_CFG_DRV, SHOULD, DRIVER, SNAPSHOT, "driver reads configuration fields between two ConfigGeneration reads") \
  X(NOTIFY_DRV_EARLY,    "notify.drv-before-driver-ok", VSIM_L_INIT_DRV, MUST,  DRIVER, SNAPSHOT, "driver sends no available-buffer notification before DRIVER_OK") \
  X(STATUS_DEV_EARLY_USE,"status.dev-use-before-driver-ok", VSIM_L_STATUS_DEV, MUST, DEVICE, SNAPSHOT, "device consumes no buffer and sends no used-buffer notification before DRIVER_OK") \
  X(STATUS_DEV_NR_NOTIFY,"status.dev-needs-reset-notify", VSIM_L_STATUS_DEV, MUST, DEVICE, SNAPSHOT, "device sends a config-change notification after setting DEVICE_NEEDS_RESET with DRIVER_OK") \
  X(RESET_DEV_STATUS,    "reset.dev-status-zero",    VSIM_L_RESET_DEV,  MUST,   DEVICE, SNAPSHOT, "device status reads 0 after a reset") \
  X(RESET_DEV_SILENT,    "reset.dev-silent",         VSIM_L_RESET_DEV,  MUST,   DEVICE, SNAPSHOT, "device sends no notification and touches no queue after reset until re-initialised") \
  X(RESET_DRV_VERIFY,    "reset.drv-queue-reset-unverified", VSIM_L_QRESET_DRV, MUST, DRIVER, SNAPSHOT, "after resetting a queue the driver reads back that it did reset (QueueReset / QueueReady) before enabling it again") \
  X(RESET_DEV_QUEUE,     "reset.dev-queue-after-reset", VSIM_L_QRESET_DEV, MUST, DEVICE, SNAPSHOT, "after a queue reset the device executes no request from that queue and does not notify for it until it is re-enabled") \
  /* split ring: driver input, judged by the device-side validator */ \
  X(SPLIT_ALIGN,         "split.ring-align",         VSIM_L_VQ_DRV,     MUST,   DRIVER, SNAPSHOT, "descriptor table 16-, available ring 2-, used ring 4-byte aligned") \
  X(SPLIT_AVAIL_IDX,     "split.avail-idx-jump",     VSIM_L_AVAIL_DRV,  MUST,   DRIVER, SNAPSHOT, "avail.idx never moves back and never runs more than queue size ahead of the device") \
  X(SPLIT_HEAD_RANGE,    "split.avail-head-range",   VSIM_L_DESC_DRV,   MUST,   DRIVER, SNAPSHOT, "a head in the available ring is a descriptor index below queue size") \
  X(SPLIT_HEAD_INFLIGHT, "split.avail-head-in-flight", VSIM_L_AVAIL_DRV, MUST,  DRIVER, SNAPSHOT, "a head is not made available again while its chain is still in flight") \
  X(SPLIT_NEXT_RANGE,    "split.desc-next-range",    VSIM_L_DESC_DRV,   MUST,   DRIVER, SNAPSHOT, "desc.next is below queue size (or the indirect table size)") \
  X(SPLIT_CHAIN_LOOP,    "split.desc-chain-too-long", VSIM_L_INDIR_DRV, MUST,   DRIVER, SNAPSHOT, "a chain is no longer than queue size: no loops") \
  X(SPLIT_CHAIN_BYTES,   "split.desc-chain-bytes",   VSIM_L_DESC_DRV,   MUST,   DRIVER, SNAPSHOT, "a chain holds at most 2^32 bytes in total") \
  X(SPLIT_DESC_ADDR,     "split.desc-addr-range",    VSIM_L_DESC_DRV,   MUST,   DRIVER, SNAPSHOT, "a buffer lies inside guest memory and addr+len does not wrap") \
  X(SPLIT_INORDER_NEXT,  "split.inorder-next",       VSIM_L_DESC_DRV,   MUST,   DRIVER, SNAPSHOT, "with IN_ORDER, a NEXT descriptor at table offset x has next x+1 (0 at queue size - 1)") \
  X(INDIR_INORDER_NEXT,  "indirect.inorder-next",    VSIM_L_INDIR_DRV,  MUST,   DRIVER, SNAPSHOT, "with IN_ORDER, indirect descriptors are sequential: entry i has next i+1") \
  X(SPLIT_RD_AFTER_WR,   "split.desc-rd-after-wr",   VSIM_L_FRAMING_DRV, MUST,  DRIVER, SNAPSHOT, "device-readable descriptors come before device-writable ones") \
  X(INDIR_NOT_NEG,       "indirect.not-negotiated",  VSIM_L_INDIR_DRV,  MUST,   DRIVER, SNAPSHOT, "INDIRECT is used only when VIRTIO_F_INDIRECT_DESC was negotiated") \
  X(INDIR_WITH_NEXT,     "indirect.with-next",       VSIM_L_INDIR_DRV,  MUST,   DRIVER, SNAPSHOT, "INDIRECT and NEXT are never set together") \
  X(INDIR_NESTED,        "indirect.nested",          VSIM_L_INDIR_DRV,  MUST,   DRIVER, SNAPSHOT, "no INDIRECT inside an indirect table") \
  X(INDIR_LEN,           "indirect.table-len",       VSIM_L_INDIR_DRV,  MUST,   DRIVER, SNAPSHOT, "an indirect table's len is a non-zero multiple of 16 and at most queue size entries") \
  /* the rule the device would have to break to use such a buffer: it must not write a device-readable buffer or any descriptor table entry (split.desc-write-overlap, packed.desc-write-overlap) */ \
  X(SPLIT_WRITE_OVERLAP, "split.desc-write-overlap", VSIM_L_DESC_DEV,   MUST,   DRIVER, SNAPSHOT, "no buffer overlaps a used ring of a live queue, and no device-writable buffer overlaps a device-readable buffer of its chain, the chain's indirect table, or a descriptor table or available ring of a live queue") \
  X(DRV_ALTER_EXPOSED,   "mem.drv-alter-exposed",    VSIM_L_CLEANUP_DRV, MUST,  DRIVER, SNAPSHOT, "driver changes no descriptor (or indirect table entry) of a buffer it made available until the device has used it") \
  /* split ring: device output, judged by the driver model */ \
  X(USED_ID_RANGE,       "split.used-id-range",      VSIM_L_USED_DEV,   MUST,   DEVICE, SNAPSHOT, "used.id is a descriptor index below queue size") \
  X(USED_ID_NOT_HEAD,    "split.used-id-not-outstanding", VSIM_L_USED_DEV, MUST, DEVICE, SNAPSHOT, "used.id is the head of a chain the device still holds") \
  X(USED_LEN_OVER,       "split.used-len-exceeds",   VSIM_L_USED_DEV,   MUST,   DEVICE, SNAPSHOT, "used.len is at most the chain's device-writable bytes") \
  X(USED_IDX_JUMP,       "split.used-idx-jump",      VSIM_L_USED_DEV,   MUST,   DEVICE, SNAPSHOT, "used.idx advances by at most the number of chains in flight") \
  X(SPLIT_USED_ORDER,    "split.used-out-of-order",  VSIM_L_RESV_DEV,   MUST,   DEVICE, SNAPSHOT, "with IN_ORDER, used.id is the head made available at that position, or the last head of a batch used.idx covers in full") \
  X(MEM_DEV_WRITE_RO,    "mem.dev-write-readonly",   VSIM_L_DESC_DEV,   MUST,   DEVICE, ACCESS,   "device writes only device-writable buffers, never a descriptor, an available ring or a driver event suppression structure") \
  X(MEM_DEV_OOB,         "mem.dev-out-of-bounds",    VSIM_L_DESC_DEV,   MUST,   DEVICE, ACCESS,   "device touches only guest memory the driver gave it") \
  /* packed ring: driver input, judged by the device-side validator */ \
  X(PACKED_ALIGN,        "packed.ring-align",        VSIM_L_PVQ_DRV,    MUST,   DRIVER, SNAPSHOT, "descriptor ring 16-, event suppression structures 4-byte aligned") \
  X(PACKED_ID_RANGE,     "packed.buffer-id-range",   VSIM_L_PDESC_DRV,  MUST,   DRIVER, SNAPSHOT, "a list's buffer id is below queue size") \
  X(PACKED_ID_INFLIGHT,  "packed.buffer-id-in-flight", VSIM_L_PDESC_DRV, MUST,  DRIVER, SNAPSHOT, "a buffer id is not made available again while its list is in flight") \
  X(PACKED_LIST_LONG,    "packed.list-too-long",     VSIM_L_PSG_DRV,    MUST,   DRIVER, SNAPSHOT, "a list is no longer than queue size (and at most 2^32 bytes)") \
  X(PACKED_RD_AFTER_WR,  "packed.desc-rd-after-wr",  VSIM_L_PSG_DRV,    MUST,   DRIVER, SNAPSHOT, "device-readable descriptors come before device-writable ones") \
  X(PACKED_PARTIAL,      "packed.list-partially-available", VSIM_L_PSG_DRV, MUST, DRIVER, SNAPSHOT, "every descriptor of a list is available when its first one is") \
  X(PACKED_DESC_ADDR,    "packed.desc-addr-range",   VSIM_L_PDESC_DRV,  MUST,   DRIVER, SNAPSHOT, "a buffer lies inside guest memory and addr+len does not wrap") \
  X(PACKED_INDIR_NOT_NEG,"packed.indirect-not-negotiated", VSIM_L_PINDIR_DRV, MUST, DRIVER, SNAPSHOT, "INDIRECT is used only when VIRTIO_F_INDIRECT_DESC was negotiated") \
  X(PACKED_INDIR_FLAGS,  "packed.indirect-flags",    VSIM_L_PINDIR_DRV, MUST,   DRIVER, SNAPSHOT, "inside an indirect table only WRITE is set (no NEXT, no nested INDIRECT)") \
  X(PACKED_INDIR_LEN,    "packed.indirect-table-len", VSIM_L_PINDIR_DRV, MUST,  DRIVER, SNAPSHOT, "an indirect table's len is a non-zero multiple of 16 and at most queue size entries") \
  X(PACKED_WRITE_OVERLAP,"packed.desc-write-overlap", VSIM_L_PDESC_DEV, MUST,   DRIVER, SNAPSHOT, "no buffer overlaps a descriptor ring or device event structure of a live queue, and no device-writable buffer overlaps a device-readable buffer of its list, the list's indirect table or a driver event structure") \
  /* packed ring: device output, judged by the driver model */ \
  X(PACKED_USED_ID,      "packed.used-id-not-outstanding", VSIM_L_PDESC_DEV, MUST, DEVICE, SNAPSHOT, "a used descriptor carries the id of a list the device holds") \
  X(PACKED_USED_LEN,     "packed.used-len-exceeds",  VSIM_L_USED_DEV,   MUST,   DEVICE, SNAPSHOT, "used len is at most the list's device-writable bytes") \
  X(PACKED_USED_FLAGS,   "packed.used-flags-wrap",   VSIM_L_PDESC_DEV,  MUST,   DEVICE, SNAPSHOT, "a used descriptor has AVAIL == USED == the device's wrap counter") \
  X(NOTIFY_DATA,         "notify.drv-notification-data", VSIM_L_PDESC_DRV, MUST, DRIVER, SNAPSHOT, "with NOTIFICATION_DATA, a notification's next_off/next_wrap name the next descriptor not yet made available") \
  X(PACKED_KICK_MISSED,  "packed.drv-missed-kick",   VSIM_L_PKICK_DRV,  MUST,   DRIVER, SNAPSHOT, "driver notifies unless the device event structure says DISABLE or a DESC point not crossed") \
  /* notification suppression */ \
  X(NOTIFY_DRV_MISSED,   "notify.drv-missed-kick",   VSIM_L_AVAILSUP_DRV, MUST, DRIVER, SNAPSHOT, "driver notifies when used.flags is 0 / when avail.idx crosses avail_event") \
  X(NOTIFY_DRV_SPURIOUS, "notify.drv-suppressed-kick", VSIM_L_AVAILSUP_DRV, SHOULD, DRIVER, SNAPSHOT, "driver does not notify when the device suppressed notifications") \
  X(NOTIFY_DRV_FLAGS,    "notify.drv-avail-flags",   VSIM_L_USEDSUP_DRV, MUST,  DRIVER, SNAPSHOT, "avail.flags is 0 or 1, and 0 with EVENT_IDX") \
  X(NOTIFY_DRV_USED_INIT,"notify.drv-used-flags-init", VSIM_L_AVAILSUP_DRV, MUST, DRIVER, SNAPSHOT, "driver initialises used.flags to 0 when it allocates the used ring") \
  X(NOTIFY_DEV_MISSED,   "notify.dev-missed-irq",    VSIM_L_USEDSUP_DEV, MUST,  DEVICE, SNAPSHOT, "device interrupts when avail.flags is 0 / when used.idx crosses used_event") \
  X(NOTIFY_DEV_SPURIOUS, "notify.dev-suppressed-irq", VSIM_L_USEDSUP_DEV, SHOULD, DEVICE, SNAPSHOT, "device does not interrupt when the driver suppressed interrupts") \
  X(NOTIFY_DEV_FLAGS,    "notify.dev-used-flags",    VSIM_L_AVAILSUP_DEV, MUST, DEVICE, SNAPSHOT, "used.flags is 0 or 1, and 0 with EVENT_IDX") \
  X(LIVENESS_STALL,      "liveness.stall",           VSIM_L_USEDSUP_DEV, MUST,  DEVICE, SNAPSHOT, "requests are pending but no actor can run: a lost notification or a wedged device") \
  /* virtio-mmio */ \
  X(MMIO_ACCESS_WIDTH,   "mmio.drv-access-width",    VSIM_L_MMIO_DRV,   MUST,   DRIVER, SNAPSHOT, "control registers are accessed 32 bits wide and aligned; config with field-width accesses") \
  X(MMIO_WRITE_RO,       "mmio.drv-write-readonly",  VSIM_L_MMIO_DRV,   MUST,   DRIVER, SNAPSHOT, "driver writes no read-only register") \
  X(MMIO_READ_WO,        "mmio.drv-read-writeonly",  VSIM_L_MMIO_DRV,   MUST,   DRIVER, SNAPSHOT, "driver reads no write-only register") \
  X(MMIO_UNDEFINED,      "mmio.drv-undefined-offset", VSIM_L_MMIO_DRV,  MUST,   DRIVER, SNAPSHOT, "driver accesses only the registers of the layout") \
  X(MMIO_QUEUE_SIZE,     "mmio.drv-queue-size",      VSIM_L_MMIO_DRV,   MUST,   DRIVER, SNAPSHOT, "QueueSize is at most QueueSizeMax (and a power of two for split rings)") \
  X(MMIO_QUEUE_LIVE,     "mmio.drv-queue-while-ready", VSIM_L_MMIO_DRV, MUST,   DRIVER, SNAPSHOT, "QueueSize and queue addresses are not touched while QueueReady is 1") \
  X(MMIO_NOTIFY_QUEUE,   "mmio.drv-notify-queue",    VSIM_L_MMIO_DRV,   MUST,   DRIVER, SNAPSHOT, "QueueNotify names an existing, ready queue") \
  X(MMIO_DEV_RESET,      "mmio.dev-reset-clears",    VSIM_L_MMIO_DEV,   MUST,   DEVICE, SNAPSHOT, "reset clears InterruptStatus and every QueueReady") \
  X(MMIO_DEV_QRESET,     "mmio.dev-queue-reset-done", VSIM_L_MMIO_DEV,  MUST,   DEVICE, SNAPSHOT, "when a queue reset has completed (QueueReset reads 0), QueueReady reads 0 too") \
  X(MMIO_DEV_MAGIC,      "mmio.dev-magic-version",   VSIM_L_MMIO_DEV,   MUST,   DEVICE, SNAPSHOT, "MagicValue reads 0x74726976 and Version 2") \
  /* virtio-blk */ \
  X(BLK_DRV_CAPACITY,    "blk.drv-beyond-capacity",  VSIM_L_BLK_DRV,    MUST,   DRIVER, SNAPSHOT, "driver reads and writes within capacity") \
  X(BLK_DRV_DATA_LEN,    "blk.drv-data-len",         VSIM_L_BLK_DRV,    MUST,   DRIVER, SNAPSHOT, "IN/OUT data is a multiple of 512; GET_ID data is 20 bytes; discard segments are 16 bytes") \
  X(BLK_DRV_FLUSH_SECTOR,"blk.drv-flush-sector",     VSIM_L_BLK_DRV,    MUST,   DRIVER, SNAPSHOT, "FLUSH carries sector 0") \
  X(BLK_DRV_SEGMENTS,    "blk.drv-segments",         VSIM_L_BLK_DRV,    MUST,   DRIVER, SNAPSHOT, "DISCARD carries at most max_discard_seg segments, WRITE_ZEROES at most max_write_zeroes_seg (as the device's config space says)") \
  X(BLK_DEV_RO_WRITE,    "blk.dev-ro-write",         VSIM_L_BLK_DEV,    MUST,   DEVICE, SNAPSHOT, "a write to a read-only device completes with IOERR and writes nothing") \
  X(BLK_DEV_UNMAP_DISCARD,"blk.dev-discard-flags",   VSIM_L_BLK_DEV,    MUST,   DEVICE, SNAPSHOT, "discard with unmap or unknown flags completes with UNSUPP") \
  X(BLK_DEV_ZEROES,      "blk.dev-write-zeroes",     VSIM_L_BLK_DEV,    MUST,   DEVICE, SNAPSHOT, "reads after WRITE_ZEROES return zeroes") \
  X(BLK_DEV_STATUS,      "blk.dev-status-value",     VSIM_L_BLK_DEV,    MUST,   DEVICE, SNAPSHOT, "the status byte is OK, IOERR or UNSUPP, and data read back matches data written") \
  /* packed ring: IN_ORDER and who may change a descriptor when (judged from the ring at publishes and actor ends) */ \
  X(PACKED_USED_ORDER,   "packed.used-out-of-order", VSIM_L_RESV_DEV,   MUST,   DEVICE, SNAPSHOT, "with IN_ORDER, a used descriptor names the last list of a batch that starts with the oldest list in flight, and the device's used position moves past exactly the batches it wrote") \
  X(PACKED_DEV_USED_CHANGED, "packed.dev-used-desc-changed", VSIM_L_PDESC_DEV, MUST, DEVICE, SNAPSHOT, "device does not change a descriptor after marking it used (until the driver makes it available again)") \
  X(PACKED_DRV_DESC_CHANGED, "packed.drv-desc-changed-before-used", VSIM_L_PDESC_DRV, MUST, DRIVER, SNAPSHOT, "driver does not change a descriptor it made available until the device has marked it used (nor makes it available again)") \
  /* virtio-blk device initialisation: what the config space and the offer must say (read by the driver at probe) */ \
  X(BLK_DEV_CONFIG_PAD,  "blk.dev-config-padding",   VSIM_L_BLK_INIT_DEV, MUST, DEVICE, SNAPSHOT, "the config padding bytes unused0 and unused1 read 0") \
  X(BLK_DEV_WCE_FLUSH,   "blk.dev-wce-without-flush", VSIM_L_BLK_INIT_DEV, MUST, DEVICE, SNAPSHOT, "a device that offers CONFIG_WCE also offers FLUSH") \
  /* bounded device work (the engine counts the device's guest-memory accesses in each worker step). \
   * The spec has no device sentence about descriptor loops (only the driver's "loops ... are \
   * forbidden"); what it asks of a device facing an error it cannot recover from is the SHOULD \
   * of the Device Status Field: set DEVICE_NEEDS_RESET. A device that walks a loop never gets \
   * there: it must give up on a chain within O(queue size), the maximum possible chain length. */ \
  X(LIVENESS_DEV_WORK,   "liveness.dev-unbounded-work", VSIM_L_STATUS_DEV, SHOULD, DEVICE, ACCESS, "between two chains it takes or completes, the device makes at most 4 x queue size + 64 guest-memory accesses: a descriptor loop is given up on (DEVICE_NEEDS_RESET), not walked") \
  /* vhost-user back-ends (backend-model/vhost_user.c): their replies, judged as they arrive */ \
  X(VU_REPLY_HEADER,     "vhost-user.reply-header",  VSIM_L_VU_HEADER,  MUST,   DEVICE, SNAPSHOT, "a reply carries the request number it answers, version 1 and the REPLY flag, and no other flag bits") \
  X(VU_REPLY_SIZE,       "vhost-user.reply-size",    VSIM_L_VU_PAYLOAD, MUST,   DEVICE, SNAPSHOT, "a reply's payload has the size its message defines (u64 8, vring state 8, config 12 + the size asked)") \
  X(VU_REPLY_FDS,        "vhost-user.reply-fds",     VSIM_L_VU_COMM,    MUST,   DEVICE, SNAPSHOT, "a reply carries file descriptors only where its message defines them") \
  X(VU_REPLY_MISSING,    "vhost-user.reply-missing", VSIM_L_VU_COMM,    MUST,   DEVICE, SNAPSHOT, "every request that defines a reply (or asks for a REPLY_ACK) gets it, within the reply timeout") \
  X(VU_ACK_FAILED,       "vhost-user.reply-ack-failed", VSIM_L_VU_ACK,  MUST,   DEVICE, SNAPSHOT, "a well-formed request the back-end offered support for is acknowledged with 0 (success)") \
  X(VU_BACKEND_GONE,     "vhost-user.backend-gone",  VSIM_L_VU_COMM,    MUST,   DEVICE, SNAPSHOT, "the back-end keeps the connection and its process alive (closing it is for exceptional circumstances only); reported as crashed") \
  X(VU_CONFIG_OFFSET,    "vhost-user.get-config-offset", VSIM_L_VU_CONFIG, MUST, DEVICE, SNAPSHOT, "GET_CONFIG returns the configuration space bytes at the offset asked for") \
  X(VU_CONFIG_SIZE,      "vhost-user.get-config-size", VSIM_L_VU_CONFIG, SHOULD, DEVICE, SNAPSHOT, "GET_CONFIG answers a read of the device type's whole configuration structure (as <linux/virtio_*.h> defines it)") \
  /* virtio-pci (modern): the driver's accesses judged by the device model (sim/pci.c), the device's layout by the driver's capability walk (frontend-model/transport_pci.c) and the checker */ \
  X(PCI_ACCESS_WIDTH,    "pci.drv-access-width",     VSIM_L_PCI_LAYOUT_DRV, MUST, DRIVER, SNAPSHOT, "common and device configuration fields are accessed with their own width and aligned (a 64-bit field as two 32-bit halves), the ISR status byte with 1-byte reads") \
  X(PCI_WRITE_RO,        "pci.drv-write-readonly",   VSIM_L_PCI_COMMON_DRV, MUST, DRIVER, SNAPSHOT, "driver writes none of device_feature, num_queues, config_generation, queue_notify_off, queue_notify_data") \
  X(PCI_QUEUE_SIZE,      "pci.drv-queue-size",       VSIM_L_PCI_COMMON_DRV, MUST, DRIVER, SNAPSHOT, "queue_size written is a power of 2 (split ring) or not 0 (packed ring), and at most the size the device presented") \
  X(PCI_QUEUE_ENABLE_ZERO, "pci.drv-queue-enable-zero", VSIM_L_PCI_COMMON_DRV, MUST, DRIVER, SNAPSHOT, "driver never writes 0 to queue_enable") \
  X(PCI_QUEUE_LIVE,      "pci.drv-queue-while-enabled", VSIM_L_PCI_COMMON_DRV, MUST, DRIVER, SNAPSHOT, "queue_size and the queue addresses are configured before queue_enable, never changed while the queue is enabled") \
  X(PCI_NOTIFY,          "pci.drv-notify",           VSIM_L_PCI_NOTIFY_DRV, MUST, DRIVER, SNAPSHOT, "a notification is a 16-bit write (32-bit with NOTIFICATION_DATA) of the queue's index at that queue's notify address, cap.offset + queue_notify_off * notify_off_multiplier") \
  X(PCI_DEV_NOTIFY_CAP,  "pci.dev-notify-cap",       VSIM_L_PCI_NOTIFY_CAP_DEV, MUST, DEVICE, SNAPSHOT, "notify capability: cap.offset 2-byte aligned (4 with NOTIFICATION_DATA), notify_off_multiplier an even power of 2 (a multiple of 4 with NOTIFICATION_DATA) or 0, cap.length covering every queue's notify address") \
  X(PCI_DEV_QRESET,      "pci.dev-queue-reset-done", VSIM_L_PCI_COMMON_DEV, MUST, DEVICE, SNAPSHOT, "when a queue reset has completed (queue_reset reads 0), queue_enable reads 0 too") \
  /* virtio-pci: the rest of the function's rules (device: common configuration, ISR, capabilities; MSI-X, both sides) */ \
  X(PCI_DEV_RESET,       "pci.dev-reset-clears",     VSIM_L_PCI_COMMON_DEV, MUST, DEVICE, SNAPSHOT, "once a device reset is done (device_status reads 0), every queue_enable reads 0") \
  X(PCI_DEV_ISR_CLEAR,   "pci.dev-isr-read-clears",  VSIM_L_PCI_ISR_DEV, MUST, DEVICE, SNAPSHOT, "reading the ISR status byte resets it to 0: a second read finds only bits of interrupts raised since") \
  X(PCI_DEV_CAP_LAYOUT,  "pci.dev-cap-layout",       VSIM_L_PCI_CAPS_DEV, MUST, DEVICE, SNAPSHOT, "a virtio capability's cap_len covers its structure (16 bytes, 20 with the notify multiplier), and the structure lies inside its BAR") \
  X(PCI_DEV_DEVCFG_ALIGN, "pci.dev-device-cfg-align", VSIM_L_PCI_DEVCFG_DEV, MUST, DEVICE, SNAPSHOT, "the device-specific configuration structure's offset is 4-byte aligned") \
  X(PCI_DEV_QUEUE_SIZE,  "pci.dev-queue-size",       VSIM_L_PCI_COMMON_DEV, MUST, DEVICE, SNAPSHOT, "queue_size reads 0 while queue_select names no queue, and 0 or a power of 2 without VIRTIO_F_RING_PACKED") \
  X(PCI_DEV_GENERATION,  "pci.dev-config-generation", VSIM_L_PCI_COMMON_DEV, MUST, DEVICE, SNAPSHOT, "after the driver read a device configuration value that changed since it last read it, config_generation reads other than it did when the old value was read") \
  X(PCI_DEV_MSIX_TABLE,  "pci.dev-msix-table-size",  VSIM_L_PCI_MSIX_DEV, SHOULD, DEVICE, SNAPSHOT, "an MSI-X capability has at least 2 and at most 0x800 vectors (Table Size)") \
  X(PCI_DEV_MSIX_VECTOR, "pci.dev-msix-vector",      VSIM_L_PCI_MSIX_DEV, MUST, DEVICE, SNAPSHOT, "config_msix_vector and queue_msix_vector read the vector written or NO_VECTOR (NO_VECTOR after a reset until written), and an event's MSI-X interrupts go to the vector it reads") \
  X(PCI_DEV_MSIX_UNMAPPED, "pci.dev-msix-unmapped",  VSIM_L_PCI_USED_NOTIFY_DEV, MUST, DEVICE, SNAPSHOT, "with MSI-X enabled, no interrupt for a queue whose queue_msix_vector is NO_VECTOR") \
  X(PCI_DRV_MSIX_RANGE,  "pci.drv-msix-vector-range", VSIM_L_PCI_MSIX_DRV, MUST, DRIVER, SNAPSHOT, "driver maps events only to vectors inside the MSI-X table (Table Size), or writes NO_VECTOR") \
  X(PCI_DRV_MSIX_VERIFY, "pci.drv-msix-verify",      VSIM_L_PCI_MSIX_DRV, MUST, DRIVER, SNAPSHOT, "driver reads a vector back after writing it, before its next common configuration write or notification") \
  X(PCI_DRV_ISR_MSIX,    "pci.drv-isr-with-msix",    VSIM_L_PCI_ISR_DRV, SHOULD, DRIVER, SNAPSHOT, "with MSI-X enabled, the driver does not read the ISR status byte (it is unused)") \
  X(RESET_DRV_REREAD,    "reset.drv-status-reread",  VSIM_L_RESET_DRV, SHOULD, DRIVER, SNAPSHOT, "after writing 0 to device status the driver reads it back before it writes status again (that it reads 0 is the device's rule, reset.dev-status-zero)") \
  X(RESET_DRV_REENABLE,  "reset.drv-reenable-setup", VSIM_L_QREENABLE_DRV, MUST, DRIVER, SNAPSHOT, "a queue re-enabled after its reset is configured again as at discovery: its size and all three ring addresses written since the reset") \
  X(MMIO_DRV_IDENTIFY,   "mmio.drv-identify-first",  VSIM_L_MMIO_INIT_DRV, MUST, DRIVER, SNAPSHOT, "the driver reads MagicValue and Version before any other register of the device") \
  X(MMIO_DRV_IRQ_ACK,    "mmio.drv-interrupt-ack",   VSIM_L_MMIO_IRQ_DRV, MUST, DRIVER, SNAPSHOT, "the driver acknowledges (InterruptACK) only events it read in InterruptStatus since its last acknowledgement") \
  /* virtio-console: the device's control messages judged by the console driver model (frontend-model/console_drv.c), the driver's buffers and messages as it submits them */ \
  X(CON_DEV_PORT_ADD,    "console.dev-port-add",     VSIM_L_CON_MP_DEV, MUST, DEVICE, SNAPSHOT, "DEVICE_ADD names neither a port that exists (added and not removed) nor one >= max_nr_ports") \
  X(CON_DEV_PORT_REMOVE, "console.dev-port-remove",  VSIM_L_CON_MP_DEV, MUST, DEVICE, SNAPSHOT, "DEVICE_REMOVE names only a port a previous DEVICE_ADD created (and no later DEVICE_REMOVE removed)") \
  X(CON_DRV_RX_READABLE, "console.drv-rx-readable",  VSIM_L_CON_OP_DRV, MUST, DRIVER, SNAPSHOT, "no device-readable buffer in a receiveq (a port's, or the control receiveq)") \
  X(CON_DRV_TX_WRITABLE, "console.drv-tx-writable",  VSIM_L_CON_OP_DRV, MUST, DRIVER, SNAPSHOT, "no device-writable buffer in a transmitq (a port's, or the control transmitq)") \
  X(CON_DRV_DEVICE_READY, "console.drv-device-ready", VSIM_L_CON_MP_DRV, MUST, DRIVER, SNAPSHOT, "with MULTIPORT negotiated the driver sends DEVICE_READY: before any other control message, and by the end of a run that reached DRIVER_OK") \
  X(CON_DRV_PORT_OPEN,   "console.drv-console-port-open", VSIM_L_CON_MP_DRV, MUST, DRIVER, SNAPSHOT, "the driver answers CONSOLE_PORT with PORT_OPEN for that port, value 1 (by the end of the run; a PORT_OPEN 0 for it first is the violation at once)") \
  X(CON_DEV_EMERG,       "console.dev-emerg-write",  VSIM_L_CON_INIT_DEV, MUST, DEVICE, SNAPSHOT, "with EMERG_WRITE offered the device accepts a write to emerg_wr whatever its status, before initialisation too (judged by the transport: the device's config_write must not refuse it)") \
  /* virtio-input: the config queries judged by the checker (driver) and the input driver model (device); buffers and updates by the input driver model (frontend-model/input_drv.c) */ \
  X(INPUT_DEV_SIZE,      "input.dev-size-unsupported", VSIM_L_INPUT_INIT_DEV, MUST, DEVICE, SNAPSHOT, "size reads 0 for a select/subsel pair the device does not support (UNSET, an undefined select, ID_* with subsel != 0)") \
  X(INPUT_DRV_SELECT,    "input.drv-select-and-subsel", VSIM_L_INPUT_INIT_DRV, MUST, DRIVER, SNAPSHOT, "a query (a read of size) follows writes of both select and subsel, in any order, or of neither (the same query read again)") \
  X(INPUT_DRV_CFG_WRITE, "input.drv-config-write",   VSIM_L_INPUT_INIT_DRV, MUST, DRIVER, SNAPSHOT, "the driver writes no configuration field other than select and subsel") \
  X(INPUT_DRV_SIZE_FIRST, "input.drv-size-first",    VSIM_L_INPUT_INIT_DRV, SHOULD, DRIVER, SNAPSHOT, "the driver reads size before the answer in u, after each query") \
  X(INPUT_DRV_EVENTQ_BUF, "input.drv-eventq-buffer", VSIM_L_INPUT_OP_DRV, MUST, DRIVER, SNAPSHOT, "eventq buffers are device-writable only and at least a virtio_input_event (8 bytes)") \
  X(INPUT_DRV_STATUSQ_BUF, "input.drv-statusq-buffer", VSIM_L_INPUT_OP_DRV, MUST, DRIVER, SNAPSHOT, "statusq buffers are at least a virtio_input_event (8 bytes)") \
  X(INPUT_DEV_UPDATE,    "input.dev-partial-update", VSIM_L_INPUT_OP_DEV, SHOULD, DEVICE, SNAPSHOT, "the device delivers an input update (the events of one host.input) whole or drops it whole, never a part") \
  /* virtio-net (frontend-model/net_drv.c): the driver's requests as they go, the device's answers as they come back, the config space at probe */ \
  X(NET_DRV_FEATURE_DEPS, "net.drv-feature-deps",    VSIM_L_FEAT_DRV,   MUST,   DRIVER, SNAPSHOT, "driver accepts no net feature without the features it requires (Network Device / Feature bit requirements)") \
  X(NET_DRV_TX_NUM_BUFFERS, "net.drv-tx-num-buffers", VSIM_L_NET_TX_DRV, MUST,  DRIVER, SNAPSHOT, "a transmitted packet's header has num_buffers 0") \
  X(NET_DRV_TX_HDR,      "net.drv-tx-header",        VSIM_L_NET_TX_DRV, MUST,   DRIVER, SNAPSHOT, "a transmit buffer starts with a whole struct virtio_net_hdr (12 bytes)") \
  X(NET_DRV_TX_FLAGS,    "net.drv-tx-flags",         VSIM_L_NET_TX_DRV, MUST,   DRIVER, SNAPSHOT, "transmit flags are 0 without CSUM; DATA_VALID and RSC_INFO are never set") \
  X(NET_DRV_TX_GSO,      "net.drv-tx-gso",           VSIM_L_NET_TX_DRV, MUST,   DRIVER, SNAPSHOT, "gso_type names only offloads whose HOST_* feature (and HOST_ECN for the ECN bit) is negotiated; a GSO packet sets NEEDS_CSUM") \
  X(NET_DRV_TX_CSUM,     "net.drv-tx-csum-range",    VSIM_L_NET_TX_DRV, MUST,   DRIVER, SNAPSHOT, "with NEEDS_CSUM, csum_start + csum_offset + 2 lies within the packet (so the checksum can be completed)") \
  X(NET_DRV_RX_BUF,      "net.drv-rx-buffer-size",   VSIM_L_NET_RXBUF_DRV, MUST, DRIVER, SNAPSHOT, "with MRG_RXBUF, each receive buffer holds at least the 12-byte header") \
  X(NET_DRV_CTRL_RX,     "net.drv-ctrl-rx-class",    VSIM_L_NET_RXF_DRV, MUST,  DRIVER, SNAPSHOT, "PROMISC / ALLMULTI only with CTRL_RX, ALLUNI..NOBCAST only with CTRL_RX_EXTRA") \
  X(NET_DRV_CTRL_MAC,    "net.drv-ctrl-mac-class",   VSIM_L_NET_MAC_DRV, MUST,  DRIVER, SNAPSHOT, "MAC class commands only with CTRL_RX; MAC_TABLE_SET is le32 n, n addresses, le32 m, m addresses") \
  X(NET_DRV_MQ_PAIRS,    "net.drv-mq-pairs-range",   VSIM_L_NET_MQ_DRV, MUST,   DRIVER, SNAPSHOT, "VQ_PAIRS_SET asks for 1..max_virtqueue_pairs pairs") \
  X(NET_DEV_CFG_PAIRS,   "net.dev-config-max-pairs", VSIM_L_NET_CFG_DEV, MUST,  DEVICE, SNAPSHOT, "with MQ offered, max_virtqueue_pairs is 1..0x8000") \
  X(NET_DEV_CFG_MTU,     "net.dev-config-mtu",       VSIM_L_NET_CFG_DEV, MUST,  DEVICE, SNAPSHOT, "with MTU offered, mtu is 68..65535") \
  X(NET_DEV_CFG_SPEED,   "net.dev-config-speed-duplex", VSIM_L_NET_CFG_DEV, MUST, DEVICE, SNAPSHOT, "with SPEED_DUPLEX negotiated, speed is 0..0x7fffffff or 0xffffffff (unknown) and duplex 0x00, 0x01 or 0xff") \
  X(NET_DEV_RX_NUM_BUFFERS, "net.dev-rx-num-buffers", VSIM_L_NET_RX_DEV, MUST,  DEVICE, SNAPSHOT, "a received packet's header has num_buffers 1 without MRG_RXBUF, 1..the buffers it spans with it; every buffer but the last is used completely") \
  X(NET_DEV_RX_FLAGS,    "net.dev-rx-flags",         VSIM_L_NET_RX_DEV, MUST,   DEVICE, SNAPSHOT, "receive flags are 0 without GUEST_CSUM; RSC_INFO only with RSC_EXT") \
  X(NET_DEV_RX_GSO,      "net.dev-rx-gso",           VSIM_L_NET_RX_DEV, MUST,   DEVICE, SNAPSHOT, "a received gso_type is NONE unless its GUEST_* feature (GUEST_ECN for the ECN bit) is negotiated; a GSO packet sets NEEDS_CSUM") \
  X(NET_DEV_RX_HDR,      "net.dev-rx-header",        VSIM_L_NET_RX_DEV, MUST,   DEVICE, SNAPSHOT, "the first buffer of a received packet holds the whole header and at least a 14-byte frame; a packet in one buffer (num_buffers 1) is whole: an IPv4 one as long as its total length") \
  X(NET_DEV_CTRL_ACK,    "net.dev-ctrl-ack",         VSIM_L_NET_RXF_DEV, MUST,  DEVICE, SNAPSHOT, "a control command is used with its ack byte written, VIRTIO_NET_OK or VIRTIO_NET_ERR; with CTRL_RX a well-formed PROMISC / ALLMULTI is acknowledged OK (the device MUST support them)") \
  X(NET_DEV_MAC_ADDR,    "net.dev-mac-addr-set",     VSIM_L_NET_MAC_DEV, MUST,  DEVICE, SNAPSHOT, "with MAC negotiated, mac in config space holds the address of an acknowledged MAC_ADDR_SET when its buffer is used") \
  X(NET_DEV_ANNOUNCE,    "net.dev-announce-clear",   VSIM_L_NET_ANN_DEV, MUST,  DEVICE, SNAPSHOT, "with GUEST_ANNOUNCE, ANNOUNCE in status is clear when an acknowledged ANNOUNCE_ACK is used") \
  X(NET_DEV_MQ_RXQ,      "net.dev-mq-rx-queue",      VSIM_L_NET_MQ_DEV, MUST,   DEVICE, SNAPSHOT, "received packets go only to receiveq1..receiveq(virtqueue_pairs) (receiveq1 until a VQ_PAIRS_SET is used)") \
  X(NET_DEV_TX_CSUM_UNUSED, "net.dev-tx-csum-unused", VSIM_L_NET_TX_DEV, MUST,  DEVICE, SNAPSHOT, "without NEEDS_CSUM (gso_type NONE) a transmitted packet goes on the wire as sent: csum_start and csum_offset are not used (judged on a wire the engine sees: the built-in model's)") \
  X(NET_DEV_TX_FORWARD,  "net.dev-tx-forward",       VSIM_L_NET_CFG_DEV, MUST,  DEVICE, SNAPSHOT, "with MTU negotiated, a well-formed packet of 14..mtu + 14 bytes with gso_type NONE goes on the wire (judged on a wire the engine sees: the built-in model's)") \
  /* virtio-gpu: the device judged from outside by the driver model (frontend-model/gpu_drv.c), from its responses and its config space */ \
  X(GPU_DEV_FENCE_ECHO,  "gpu.dev-fence-echo",       VSIM_L_GPU_FENCE_DEV, MUST, DEVICE, SNAPSHOT, "the response to a request with VIRTIO_GPU_FLAG_FENCE sets VIRTIO_GPU_FLAG_FENCE and copies fence_id from the request (ctx_id is 3D mode's)") \
  X(GPU_DEV_FENCE_COMPLETE, "gpu.dev-fence-complete", VSIM_L_GPU_FENCE_DEV, MUST, DEVICE, SNAPSHOT, "a fenced command is processed before its response: a resource whose fenced RESOURCE_CREATE_2D was answered OK is known to the next command naming it (no ERR_INVALID_RESOURCE_ID until it is unreferenced or the device reset)") \
  X(GPU_DEV_RESPONSE_TYPE, "gpu.dev-response-type",  VSIM_L_GPU_FENCE_DEV, MUST, DEVICE, SNAPSHOT, "a controlq command is returned with a response header (at least 24 bytes used) whose type is the command's own OK type (OK_NODATA, OK_DISPLAY_INFO, OK_EDID, OK_RESOURCE_UUID) or a VIRTIO_GPU_RESP_ERR_*; commands of features never offered (3D, contexts, blobs) are answered with an error") \
  X(GPU_DEV_DISPLAY_INFO, "gpu.dev-display-info",    VSIM_L_GPU_INIT_DEV, SHOULD, DEVICE, SNAPSHOT, "num_scanouts reads 1..16, and GET_DISPLAY_INFO reports displays the driver can use for its initial scanout setup: enabled ones only below num_scanouts, each with a non-zero width and height") \
  X(GPU_DEV_EVENTS_CLEAR, "gpu.dev-events-clear",    VSIM_L_GPU_INIT_DEV, SHOULD, DEVICE, SNAPSHOT, "writing a 1 bit to events_clear clears that bit of events_read (write-to-clear), so the driver's display query after VIRTIO_GPU_EVENT_DISPLAY is not asked for again") \
  /* virtio-net, second round: packets over several buffers published whole, notification coalescing, offloads state */ \
  X(NET_DEV_RX_TOGETHER, "net.dev-rx-buffers-together", VSIM_L_NET_RX_DEV, MUST, DEVICE, SNAPSHOT, "with MRG_RXBUF, all buffers of a received packet are used together: once the driver has taken every used entry the device published, it has seen num_buffers of them") \
  X(NET_DRV_COAL_FEATURE, "net.drv-notf-coal-feature", VSIM_L_NET_COAL_DRV, MUST, DRIVER, SNAPSHOT, "NOTF_COAL_TX_SET and NOTF_COAL_RX_SET are sent only with VIRTIO_NET_F_NOTF_COAL negotiated") \
  X(NET_DEV_COAL_RESET,  "net.dev-notf-coal-reset",  VSIM_L_NET_COAL_DEV, MUST, DEVICE, SNAPSHOT, "after a reset the coalescing parameters are 0: until a NOTF_COAL_TX_SET / RX_SET is acknowledged, the device holds no used-buffer notification of a transmit or receive queue (judged on the held interrupts the engine sees: the built-in model's)") \
  X(NET_DRV_OFFLOADS,    "net.drv-offloads-negotiated", VSIM_L_NET_OFFL_DRV, MUST, DRIVER, SNAPSHOT, "GUEST_OFFLOADS_SET enables no offload whose feature was not negotiated") \
  X(NET_DEV_RX_OFFLOADS, "net.dev-rx-offloads-state", VSIM_L_NET_RX_DEV, MUST, DEVICE, SNAPSHOT, "a received header uses no offload switched off by an acknowledged GUEST_OFFLOADS_SET: flags 0 with GUEST_CSUM off, gso_type NONE with the matching GUEST_TSO / UFO off (a switched-off offload counts as not negotiated)") \
  X(NET_DEV_RXBUF_COUNT, "net.dev-rx-num-buffers-count", VSIM_L_NET_RXBUF_DEV, MUST, DEVICE, SNAPSHOT, "with MRG_RXBUF, num_buffers is the number of buffers the packet occupies: an IPv4 packet (60 bytes or more, its length from its header) neither ends before its last buffer nor goes on after it") \
  X(NET_DRV_ANNOUNCE_ACK, "net.drv-announce-ack",   VSIM_L_NET_ANN_DRV, MUST, DRIVER, SNAPSHOT, "with GUEST_ANNOUNCE negotiated, a driver that read VIRTIO_NET_S_ANNOUNCE in status sends VIRTIO_NET_CTRL_ANNOUNCE_ACK (judged at the end of the run; a device reset ends the obligation)") \
  X(NET_DRV_TX_MTU,      "net.drv-tx-mtu",           VSIM_L_NET_CFG_DRV, MUST, DRIVER, SNAPSHOT, "with MTU negotiated, a transmitted packet with gso_type NONE (the ECN bit aside) is at most mtu + 14 bytes") \
  /* descriptor arrangements: a well-formed blk request framed in an unusual but valid way (blk.* "framing"), judged by the driver model from its answer */ \
  X(RING_DEV_FRAMING,    "ring.dev-framing",         VSIM_L_FRAMING_DEV, MUST,  DEVICE, SNAPSHOT, "a well-formed blk read or write (whole sectors within capacity, writable device) or FLUSH (negotiated) completes OK however it is cut into descriptors: header split across descriptors, header and data merged, data cut at odd offsets, zero-length descriptors between; IOERR / UNSUPP, or DEVICE_NEEDS_RESET while holding it (with nothing else found in the run), breaks it") \
  X(INDIR_DEV_SHAPE,     "indirect.dev-chain-shape", VSIM_L_INDIR_DEV,  MUST,   DEVICE, SNAPSHOT, "split ring with INDIRECT_DESC: a well-formed blk request completes OK when the descriptor naming its indirect table has WRITE set (to be ignored) and when direct descriptors come before that indirect descriptor (IOERR / UNSUPP, or DEVICE_NEEDS_RESET while holding it with nothing else found, breaks it)") \
  X(CONFIG_DEV_BEFORE_FEATURES_OK, "config.dev-readable-before-features-ok", VSIM_L_CFG_DEV, MUST, DEVICE, SNAPSHOT, "a device-specific config field of an offered feature (blk: capacity and the fields of SIZE_MAX, SEG_MAX, GEOMETRY, BLK_SIZE, TOPOLOGY, MQ, DISCARD, WRITE_ZEROES) reads before FEATURES_OK what it reads after DRIVER_OK, unless config_generation changed in between (not judged for vhost-user back-ends: the adapter reads their config space once, at connection)") \
  X(FEAT_DEV_ACCEPT_SUBSET, "feat.dev-accept-subset", VSIM_L_FEAT_DEV, SHOULD, DEVICE, SNAPSHOT, "the device does not refuse FEATURES_OK for a valid subset of its offer: offered bits only, VERSION_1 (and ACCESS_PLATFORM, ORDER_PLATFORM) when offered, the device type's feature requirements met") \
  X(BLK_DRV_WRITEBACK_EARLY, "blk.drv-writeback-before-features-ok", VSIM_L_BLK_INIT_DRV, MUST, DRIVER, SNAPSHOT, "the driver reads no byte of writeback (blk config offset 32, the cache mode of CONFIG_WCE) before it sets FEATURES_OK") \
  X(NET_DEV_VLAN_FILTER, "net.dev-vlan-filter",     VSIM_L_NET_VLAN_DEV, SHOULD, DEVICE, SNAPSHOT, "with CTRL_VLAN negotiated, a received 802.1Q-tagged frame carries a VLAN id the driver put in the filter table (a VLAN_ADD sent since the last reset): tags absent from the table are dropped") \
  X(GPU_DRV_BLOB_SIZE,   "gpu.drv-blob-size-aligned", VSIM_L_GPU_CTRL_DRV, MUST, DRIVER, SNAPSHOT, "with VIRTIO_GPU_F_BLOB_ALIGNMENT negotiated, RESOURCE_CREATE_BLOB's size is a multiple of blob_alignment (config space)") \
  X(GPU_DRV_MAP_OFFSET,  "gpu.drv-map-offset-aligned", VSIM_L_GPU_CTRL3D_DRV, MUST, DRIVER, SNAPSHOT, "with VIRTIO_GPU_F_BLOB_ALIGNMENT negotiated, RESOURCE_MAP_BLOB's offset is a multiple of blob_alignment (config space)") \
  /* ring-level sections: the order of the driver's ring writes, the device's order of taking lists */ \
  X(SPLIT_DRV_IDX_BEFORE_ENTRY, "split.drv-idx-before-entry", VSIM_L_UPDIDX_DRV, MUST, DRIVER, SNAPSHOT, "split ring: the available ring entries an avail.idx update exposes are written before it (the barrier before the idx update): none changes later in the driver's step that published it, with no device step in between (an entry rewritten with the value it held is not seen)") \
  X(PACKED_DEV_TAKE_ORDER, "packed.dev-take-order", VSIM_L_PVQ_DEV, MUST, DEVICE, SNAPSHOT, "packed ring: the device starts processing lists in the order they appear in the ring: each list it takes starts where the one it took before ends (offset 0, wrap 1 after the queue is enabled); not judged for out-of-process back-ends, whose takes carry no ring position") \
  X(RESET_DEV_REENABLE_CONFIG, "reset.dev-reenable-config", VSIM_L_QREENABLE_DEV, MUST, DEVICE, SNAPSHOT, "split ring: a queue re-enabled after its reset is served with the configuration the driver wrote for it then (its size, its ring addresses): the n-th chain the device takes after the re-enable is the head in avail.ring[n mod the new size], among those avail.idx covers (not judged for out-of-process back-ends)") \
  /* virtio-pci: the PCI configuration access capability (the window into the BAR through configuration space) and the discovery ids */ \
  X(PCI_DEV_CFG_CAP,     "pci.dev-cfg-cap",          VSIM_L_PCI_CFGCAP_DEV, MUST, DEVICE, SNAPSHOT, "the capability list holds at least one VIRTIO_PCI_CAP_PCI_CFG capability (judged by the driver's capability walk)") \
  X(PCI_DEV_CFG_WINDOW,  "pci.dev-cfg-window",       VSIM_L_PCI_CFGCAP_DEV, MUST, DEVICE, SNAPSHOT, "a driver access to pci_cfg_data through a well-formed window executes an access of cap.length bytes at cap.offset of BAR cap.bar: a read presents the bytes read in pci_cfg_data, a write writes the first cap.length bytes of pci_cfg_data (judged on the accesses the function reports)") \
  X(PCI_DRV_CFG_WINDOW,  "pci.drv-cfg-window",       VSIM_L_PCI_CFGCAP_DRV, MUST, DRIVER, SNAPSHOT, "driver reads or writes pci_cfg_data only with cap.length 1, 2 or 4, cap.offset a multiple of cap.length, and the cap.length bytes inside a BAR range of a virtio structure capability other than PCI_CFG (common, notify, ISR, device configuration); the device refuses the access") \
  X(PCI_DEV_NONTRANSITIONAL_IDS, "pci.dev-nontransitional-ids", VSIM_L_PCI_DISCOVERY_DEV, SHOULD, DEVICE, SNAPSHOT, "a non-transitional device (PCI Device ID 0x1040..0x107f) has PCI Revision ID 1 or higher and PCI Subsystem Device ID 0x40 or higher (judged by the driver's discovery)") \
  X(PCI_DRV_CAP_WRITE,   "pci.drv-cap-write",        VSIM_L_PCI_CAPS_DRV, MUST, DRIVER, SNAPSHOT, "driver writes no byte of a virtio structure capability (cfg_type, bar, offset, length, notify_off_multiplier, ...) except cap.bar, cap.offset, cap.length and pci_cfg_data of VIRTIO_PCI_CAP_PCI_CFG; the device ignores the write") \
  X(PCI_DEV_CONFIG_IRQ_UNMAPPED, "pci.dev-config-irq-unmapped", VSIM_L_PCI_CFGCHG_DEV, MUST, DEVICE, SNAPSHOT, "with MSI-X enabled and config_msix_vector NO_VECTOR, no interrupt for a device configuration change") \
  X(PCI_DRV_COMBINED_IRQ, "pci.drv-combined-irq",    VSIM_L_PCI_CFGCHG_DRV, MUST, DRIVER, SNAPSHOT, "an ISR status read showing both a used-buffer and a configuration-change interrupt is handled as both: the driver reads device_status, config_generation or the device configuration before its next ISR status read (judged at that read)") \
  X(PCI_DEV_DISCOVERY_IDS, "pci.dev-discovery-ids",  VSIM_L_PCI_DISCOVERY_DEV, MUST, DEVICE, SNAPSHOT, "the function presents PCI Vendor ID 0x1AF4 and a PCI Device ID of 0x1040 + the virtio device ID of the device type it serves (the scenario's), or that type's transitional id (net 0x1000, blk 0x1001, console 0x1003, ...); judged on the driver's reads of the ids")
/* clang-format on */

#endif
