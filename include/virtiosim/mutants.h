/* virtiosim/mutants.h — named ways to break the built-in models on purpose.
 *
 * Owns: the list of mutants. Each one makes the built-in device model, the
 * driver model or the scripted vhost-user back-end (vu.*: backend-model/
 * vu_peer.c, which plants them in the replies it serves) break exactly one
 * rule, so that a test can show the check for
 * that rule fires on the mutant and stays quiet on the correct model. A
 * scenario selects them by name ("mutants": ["dev.skip-irq"]).
 *
 * X(ENUM, "name", expected check enum, "what it breaks")
 */
#ifndef VIRTIOSIM_MUTANTS_H
#define VIRTIOSIM_MUTANTS_H

#include <stdbool.h>
#include <stdint.h>

/* clang-format off */
#define VSIM_MUTANT_LIST(X) \
  X(DEV_NO_VERSION1,     "dev.no-version1",        FEAT_DEV_VERSION1,   "device does not offer VERSION_1") \
  X(DEV_USED_ID_RANGE,   "dev.used-id-range",      USED_ID_RANGE,       "device writes a used id >= queue size") \
  X(DEV_USED_ID_DUP,     "dev.used-id-duplicate",  USED_ID_NOT_HEAD,    "device reports the first completed id again for the second chain") \
  X(DEV_USED_LEN_OVER,   "dev.used-len-over",      USED_LEN_OVER,       "device reports more bytes than the writable buffers hold") \
  X(DEV_IN_ORDER_SWAP,   "dev.in-order-out-of-order", SPLIT_USED_ORDER, "with IN_ORDER, the device reports the next chain's head (packed: list id) before the oldest one's") \
  X(DEV_USED_IDX_JUMP,   "dev.used-idx-jump",      USED_IDX_JUMP,       "device advances used.idx by one more than it wrote") \
  X(DEV_SKIP_IRQ,        "dev.skip-irq",           NOTIFY_DEV_MISSED,   "device never sends used-buffer notifications") \
  X(DEV_IRQ_ALWAYS,      "dev.irq-always",         NOTIFY_DEV_SPURIOUS, "device ignores the driver's interrupt suppression") \
  X(DEV_USED_FLAGS,      "dev.used-flags",         NOTIFY_DEV_FLAGS,    "device sets NO_NOTIFY even though EVENT_IDX is negotiated") \
  X(DEV_PACKED_WRAP,     "dev.packed-used-wrap",   PACKED_USED_FLAGS,   "packed ring: device writes used descriptors with the wrong wrap bits") \
  X(DEV_EARLY_USE,       "dev.early-use",          STATUS_DEV_EARLY_USE,"device consumes buffers before DRIVER_OK") \
  X(DEV_NR_SILENT,       "dev.needs-reset-silent", STATUS_DEV_NR_NOTIFY,"device sets DEVICE_NEEDS_RESET without a config-change notification") \
  X(DEV_WRITE_RO,        "dev.write-readonly",     MEM_DEV_WRITE_RO,    "device writes into the device-readable request header") \
  X(DEV_WRITE_DESC,      "dev.write-desc-table",   MEM_DEV_WRITE_RO,    "after completing a chain the device flips a bit of what the driver owns: the head descriptor's next field (split), the driver event flags (packed)") \
  X(DEV_TRUST_BUFFERS,   "dev.trust-buffers",      MEM_DEV_WRITE_RO,    "device carries out buffers placed over its rings or over the chain's own readable buffers instead of refusing them") \
  X(DEV_OOB,             "dev.out-of-bounds",      MEM_DEV_OOB,         "device reads past the end of guest memory") \
  X(DEV_RESET_STATUS,    "dev.reset-keeps-status", RESET_DEV_STATUS,    "device status is not 0 after a reset") \
  X(DEV_RESET_NOISY,     "dev.reset-noisy",        RESET_DEV_SILENT,    "device sends a notification right after a reset") \
  X(DEV_NO_REENABLE,     "dev.no-reenable",        LIVENESS_STALL,      "device suppresses kicks and never re-enables them") \
  X(DEV_QUEUE_RESET_IGNORED, "dev.queue-reset-ignored", RESET_DEV_QUEUE, "device ignores QueueReset and completes what it held") \
  X(DEV_MMIO_MAGIC,      "dev.mmio-bad-magic",     MMIO_DEV_MAGIC,      "device presents a wrong MagicValue") \
  X(DEV_MMIO_RESET_READY,"dev.mmio-reset-keeps-ready", MMIO_DEV_RESET,  "reset leaves QueueReady set") \
  X(DEV_MMIO_QRESET_READY, "dev.mmio-queue-reset-keeps-ready", MMIO_DEV_QRESET, "QueueReset resets the queue but QueueReady keeps reading 1") \
  X(DEV_BLK_RO_WRITE,    "dev.blk-ro-write",       BLK_DEV_RO_WRITE,    "read-only blk device performs writes") \
  X(DEV_BLK_DISCARD_UNMAP,"dev.blk-discard-unmap", BLK_DEV_UNMAP_DISCARD,"blk device accepts a discard with unmap set") \
  X(DEV_BLK_ZEROES_NOOP, "dev.blk-zeroes-noop",    BLK_DEV_ZEROES,      "blk WRITE_ZEROES leaves the data in place") \
  X(DEV_BLK_BAD_STATUS,  "dev.blk-bad-status",     BLK_DEV_STATUS,      "blk device writes status 7") \
  X(DRV_SKIP_KICK,       "drv.skip-kick",          NOTIFY_DRV_MISSED,   "driver never notifies the device") \
  X(DRV_KICK_ALWAYS,     "drv.kick-always",        NOTIFY_DRV_SPURIOUS, "driver notifies even when the device suppressed it") \
  X(DRV_NOTIFY_DATA,     "drv.notify-data-off-by-one", NOTIFY_DATA, "driver's NOTIFICATION_DATA names the slot after the next free one") \
  X(DRV_QUEUE_RESET_BLIND, "drv.queue-reset-unverified", RESET_DRV_VERIFY, "driver writes QueueReset and re-enables the queue without reading it back") \
  X(DRV_CONFIG_EARLY_WRITE, "drv.config-write-before-features-ok", CONFIG_DRV_EARLY_WRITE, "driver writes a config byte while negotiating features") \
  X(DRV_CONFIG_NO_GENERATION, "drv.config-no-generation", CONFIG_DRV_GENERATION, "driver reads config fields without the ConfigGeneration loop") \
  X(DRV_ACCEPT_UNOFFERED,"drv.accept-unoffered",   FEAT_DRV_UNOFFERED,  "driver accepts a feature bit the device did not offer") \
  X(DRV_REJECT_VERSION1, "drv.reject-version1",    FEAT_DRV_VERSION1,   "driver does not accept VERSION_1") \
  X(DRV_FEATURES_LATE,   "drv.features-after-ok",  FEAT_DRV_AFTER_OK,   "driver writes new feature bits after FEATURES_OK") \
  X(DRV_SKIP_ACK,        "drv.skip-acknowledge",   STATUS_DRV_ORDER,    "driver sets DRIVER without ACKNOWLEDGE") \
  X(DRV_CLEAR_BIT,       "drv.clear-status-bit",   STATUS_DRV_CLEAR,    "driver clears ACKNOWLEDGE while initialising") \
  X(DRV_NO_REREAD,       "drv.no-features-ok-reread", STATUS_DRV_REREAD,"driver sets DRIVER_OK without re-reading FEATURES_OK") \
  X(DRV_IGNORE_REFUSAL,  "drv.ignore-refusal",     STATUS_DRV_FAILED,   "driver carries on after the device refused FEATURES_OK") \
  X(DRV_EARLY_KICK,      "drv.early-kick",         NOTIFY_DRV_EARLY,    "driver notifies a queue before DRIVER_OK") \
  X(DRV_AVAIL_FLAGS,     "drv.avail-flags",        NOTIFY_DRV_FLAGS,    "driver sets NO_INTERRUPT although EVENT_IDX is negotiated") \
  X(DRV_USED_FLAGS_DIRTY,"drv.used-flags-dirty",   NOTIFY_DRV_USED_INIT,"driver leaves garbage in used.flags when it allocates the ring") \
  X(DRV_MISALIGN,        "drv.misalign-rings",     SPLIT_ALIGN,         "driver places the used ring at an odd address") \
  X(DRV_MMIO_BYTE,       "drv.mmio-byte-access",   MMIO_ACCESS_WIDTH,   "driver reads Status with a 1-byte access") \
  X(DRV_MMIO_WRITE_RO,   "drv.mmio-write-readonly",MMIO_WRITE_RO,       "driver writes QueueSizeMax") \
  X(DRV_MMIO_READ_WO,    "drv.mmio-read-writeonly",MMIO_READ_WO,        "driver reads QueueNotify") \
  X(DRV_MMIO_UNDEFINED,  "drv.mmio-undefined-offset", MMIO_UNDEFINED,   "driver reads offset 0x0f8, which the layout does not define") \
  X(DRV_QUEUE_SIZE_BIG,  "drv.queue-size-over-max",MMIO_QUEUE_SIZE,     "driver writes QueueSize above QueueSizeMax") \
  X(DRV_QUEUE_WRITE_LIVE,"drv.queue-write-live",   MMIO_QUEUE_LIVE,     "driver rewrites QueueDescLow while the queue is ready") \
  X(DEV_PACKED_BATCH_ID, "dev.packed-in-order-batch-id", PACKED_USED_ORDER, "packed ring, IN_ORDER batches: the batch's used descriptor carries its first list's id, not its last's") \
  X(DEV_PACKED_USED_REWRITE, "dev.packed-used-rewrite", PACKED_DEV_USED_CHANGED, "packed ring: after publishing, the device clears the (unused) address of its last used descriptor") \
  X(DRV_PACKED_REWRITE_AVAIL, "drv.packed-rewrite-available", PACKED_DRV_DESC_CHANGED, "packed ring: adding a list, the driver sets a reserved flag bit in the head of the list it made available before") \
  X(DEV_BLK_CONFIG_PAD,  "dev.blk-config-padding", BLK_DEV_CONFIG_PAD,  "blk config byte unused0 reads 0xa5") \
  X(DEV_BLK_WCE_NO_FLUSH,"dev.blk-wce-no-flush",   BLK_DEV_WCE_FLUSH,   "blk device offers CONFIG_WCE but not FLUSH") \
  X(DEV_NO_LOOP_CHECK,   "dev.no-loop-check",      LIVENESS_DEV_WORK,   "split ring: the device's chain walk skips its chain-length (loop) check and follows a loop until the engine's hard bound of 2^20 descriptors stops it") \
  X(DRV_AVAIL_IDX_JUMP,  "drv.avail-idx-jump",     SPLIT_AVAIL_IDX,     "split ring: the driver publishes avail.idx a queue size past the entries it wrote") \
  X(DRV_HEAD_RANGE,      "drv.avail-head-range",   SPLIT_HEAD_RANGE,    "split ring: the driver writes head + queue size into the available ring") \
  X(DRV_NEXT_RANGE,      "drv.desc-next-range",    SPLIT_NEXT_RANGE,    "split ring: the driver's NEXT links point a table size past the descriptor they mean") \
  X(DRV_CHAIN_LOOP,      "drv.desc-chain-loop",    SPLIT_CHAIN_LOOP,    "split ring, without IN_ORDER: the last descriptor of a chain (or indirect table) gets NEXT and links to itself") \
  X(DRV_INORDER_NEXT,    "drv.inorder-next-skip",  SPLIT_INORDER_NEXT,  "split ring, IN_ORDER: the first link of a direct chain skips a table slot (next x+2, the chain still taking x+1)") \
  X(DRV_INDIR_INORDER_NEXT, "drv.indirect-inorder-next-skip", INDIR_INORDER_NEXT, "split ring, IN_ORDER: the first link of an indirect table skips an entry (next i+2 modulo the table)") \
  X(DRV_RD_AFTER_WR,     "drv.desc-rd-after-wr",   SPLIT_RD_AFTER_WR,   "split ring: a chain with two device-readable buffers gets its first one marked device-writable") \
  X(DRV_INDIR_WITH_NEXT, "drv.indirect-with-next", INDIR_WITH_NEXT,     "split ring: the driver's indirect descriptors carry NEXT too") \
  X(DRV_INDIR_LEN,       "drv.indirect-table-len", INDIR_LEN,           "split ring: the driver's indirect descriptors give the table's len 8 bytes too long") \
  X(DRV_HEAD_INFLIGHT,   "drv.avail-head-in-flight", SPLIT_HEAD_INFLIGHT, "split ring: the driver puts the head of the chain it added before, still in flight, into the available ring instead of the new chain's") \
  X(DRV_PACKED_ID_RANGE, "drv.packed-buffer-id-range", PACKED_ID_RANGE, "packed ring: the driver writes buffer id + queue size into its descriptors") \
  X(DRV_PACKED_ID_INFLIGHT, "drv.packed-buffer-id-in-flight", PACKED_ID_INFLIGHT, "packed ring: the driver gives a new list the buffer id of the list it added before, still in flight") \
  X(DRV_PACKED_RD_AFTER_WR, "drv.packed-desc-rd-after-wr", PACKED_RD_AFTER_WR, "packed ring: a list with two device-readable buffers gets its first one marked device-writable") \
  X(DRV_PACKED_INDIR_LEN, "drv.packed-indirect-table-len", PACKED_INDIR_LEN, "packed ring: the driver's indirect descriptors give the table's len 8 bytes too long") \
  X(DRV_BLK_FLUSH_SECTOR, "drv.blk-flush-sector", BLK_DRV_FLUSH_SECTOR, "blk driver: FLUSH requests carry sector 1") \
  X(DRV_BLK_DATA_LEN,    "drv.blk-read-short",     BLK_DRV_DATA_LEN,    "blk driver: a read's data buffer is one byte short of its sectors (511 writable bytes for one)") \
  X(DRV_INDIR_NOT_NEG,   "drv.indirect-not-negotiated", INDIR_NOT_NEG, "split ring: the driver lays out indirect tables and uses them although INDIRECT_DESC was not negotiated") \
  X(DRV_PACKED_INDIR_NOT_NEG, "drv.packed-indirect-not-negotiated", PACKED_INDIR_NOT_NEG, "packed ring: the driver lays out indirect tables and uses them although INDIRECT_DESC was not negotiated") \
  X(DRV_PCI_WIDE_ACCESS, "drv.pci-wide-access",    PCI_ACCESS_WIDTH,    "virtio-pci: driver reads num_queues with a 4-byte access (device_status and config_generation come along)") \
  X(DRV_PCI_WRITE_RO,    "drv.pci-write-readonly", PCI_WRITE_RO,        "virtio-pci: driver writes queue_notify_off back") \
  X(DRV_PCI_ENABLE_ZERO, "drv.pci-queue-enable-zero", PCI_QUEUE_ENABLE_ZERO, "virtio-pci: driver writes 0 to queue_enable before configuring the queue") \
  X(DRV_PCI_NOTIFY_MISPLACED, "drv.pci-notify-misplaced", PCI_NOTIFY,  "virtio-pci: driver writes its notifications 2 bytes past the queue's notify address") \
  X(DEV_PCI_NOTIFY_MULT, "dev.pci-notify-multiplier", PCI_DEV_NOTIFY_CAP, "virtio-pci: device presents notify_off_multiplier 3 (not a power of 2)") \
  X(DEV_PCI_QRESET_ENABLE, "dev.pci-queue-reset-keeps-enable", PCI_DEV_QRESET, "virtio-pci: queue_reset resets the queue but queue_enable keeps reading 1") \
  X(DEV_PCI_RESET_ENABLE, "dev.pci-reset-keeps-enable", PCI_DEV_RESET, "virtio-pci: a device reset leaves every queue_enable reading 1") \
  X(DEV_PCI_ISR_STICKY,  "dev.pci-isr-sticky",     PCI_DEV_ISR_CLEAR,   "virtio-pci: reading the ISR status byte clears it only every other time") \
  X(DEV_PCI_CAP_LEN_SHORT, "dev.pci-cap-len-short", PCI_DEV_CAP_LAYOUT, "virtio-pci: the notify capability's cap_len is 16, leaving notify_off_multiplier outside it") \
  X(DEV_PCI_DEVCFG_MISALIGNED, "dev.pci-device-cfg-misaligned", PCI_DEV_DEVCFG_ALIGN, "virtio-pci: the device configuration structure sits at BAR offset 0x202") \
  X(DEV_PCI_PHANTOM_QUEUE, "dev.pci-phantom-queue", PCI_DEV_QUEUE_SIZE, "virtio-pci: queue_size past the last queue reads queue 0's maximum, not 0") \
  X(DEV_PCI_GENERATION_FROZEN, "dev.pci-generation-frozen", PCI_DEV_GENERATION, "virtio-pci: config_generation always reads 0") \
  X(DEV_PCI_MSIX_ONE_VECTOR, "dev.pci-msix-one-vector", PCI_DEV_MSIX_TABLE, "virtio-pci: the MSI-X capability has a table of one vector") \
  X(DEV_PCI_MSIX_CONFIG_VECTOR, "dev.pci-msix-config-vector", PCI_DEV_MSIX_VECTOR, "virtio-pci: queue interrupts are sent on the config vector, whatever queue_msix_vector says") \
  X(DEV_PCI_MSIX_UNMAPPED_IRQ, "dev.pci-msix-unmapped-irq", PCI_DEV_MSIX_UNMAPPED, "virtio-pci: a queue mapped to NO_VECTOR interrupts on vector 0") \
  X(DRV_PCI_MSIX_PAST_TABLE, "drv.pci-msix-vector-past-table", PCI_DRV_MSIX_RANGE, "virtio-pci: driver maps each queue to the vector table size + queue index, outside the MSI-X table") \
  X(DRV_PCI_MSIX_NO_READBACK, "drv.pci-msix-no-readback", PCI_DRV_MSIX_VERIFY, "virtio-pci: driver writes MSI-X vectors and never reads them back") \
  X(DRV_PCI_MSIX_READS_ISR, "drv.pci-msix-reads-isr", PCI_DRV_ISR_MSIX, "virtio-pci: driver reads the ISR status byte on every MSI-X queue interrupt") \
  X(DRV_RESET_NO_REREAD, "drv.reset-no-status-read", RESET_DRV_REREAD, "driver writes 0 to device status and starts initialising again without reading status back") \
  X(DRV_QUEUE_REENABLE_STALE, "drv.queue-reenable-stale", RESET_DRV_REENABLE, "after a queue reset the driver re-enables the queue by writing only QueueReady / queue_enable, relying on the configuration before the reset") \
  X(DRV_MMIO_NO_IDENTIFY, "drv.mmio-no-identify",   MMIO_DRV_IDENTIFY,   "virtio-mmio: driver probes by DeviceID alone, without reading MagicValue and Version") \
  X(DRV_MMIO_ACK_UNREAD, "drv.mmio-ack-unread",     MMIO_DRV_IRQ_ACK,    "virtio-mmio: driver acknowledges both interrupt bits whatever InterruptStatus said") \
  X(DEV_CON_ADD_TWICE,   "dev.console-add-twice",  CON_DEV_PORT_ADD,    "console: after DEVICE_READY the device announces port 0 a second time") \
  X(DEV_CON_REMOVE_UNKNOWN, "dev.console-remove-unknown", CON_DEV_PORT_REMOVE, "console: after announcing its ports the device removes the next port, which it never added") \
  X(DRV_CON_RX_READABLE, "drv.console-rx-readable", CON_DRV_RX_READABLE, "console driver: its control receive buffers start with a device-readable byte") \
  X(DRV_CON_TX_WRITABLE, "drv.console-tx-writable", CON_DRV_TX_WRITABLE, "console driver: its control messages carry a device-writable byte after the message") \
  X(DRV_CON_NO_DEVICE_READY, "drv.console-no-device-ready", CON_DRV_DEVICE_READY, "console driver: never sends DEVICE_READY although MULTIPORT is negotiated") \
  X(DRV_CON_PORT_OPEN_ZERO, "drv.console-port-open-zero", CON_DRV_PORT_OPEN, "console driver: answers CONSOLE_PORT with PORT_OPEN value 0") \
  X(DEV_CON_EMERG_EARLY, "dev.console-emerg-refused-early", CON_DEV_EMERG, "console: refuses a write to emerg_wr until DRIVER_OK") \
  X(DEV_INPUT_SIZE_GARBAGE, "dev.input-size-garbage", INPUT_DEV_SIZE, "input: answers an undefined select with size 1") \
  X(DEV_INPUT_SPLIT_UPDATE, "dev.input-split-update", INPUT_DEV_UPDATE, "input: an update that does not fit its event FIFO is cut (the events that fit are kept) instead of dropped whole") \
  X(DRV_INPUT_SELECT_ONLY, "drv.input-select-only", INPUT_DRV_SELECT, "input driver: queries ID_SERIAL writing select only (subsel left from the previous query)") \
  X(DRV_INPUT_WIDE_WRITE, "drv.input-wide-select-write", INPUT_DRV_CFG_WRITE, "input driver: writes select and subsel with one 32-bit write, over size and reserved") \
  X(DRV_INPUT_NO_SIZE,   "drv.input-no-size-check", INPUT_DRV_SIZE_FIRST, "input driver: reads the ID_NAME string without reading size first") \
  X(DRV_INPUT_SHORT_EVENT_BUF, "drv.input-short-event-buffers", INPUT_DRV_EVENTQ_BUF, "input driver: posts 4-byte eventq buffers") \
  X(DRV_INPUT_SHORT_STATUS, "drv.input-short-status", INPUT_DRV_STATUSQ_BUF, "input driver: sends its LED status event in a 4-byte buffer") \
  X(DEV_NET_PAIRS_ZERO,  "dev.net-max-pairs-zero", NET_DEV_CFG_PAIRS,   "net device offers MQ with max_virtqueue_pairs 0") \
  X(DEV_NET_MTU_RANGE,   "dev.net-mtu-64",         NET_DEV_CFG_MTU,     "net device offers MTU with mtu 64") \
  X(DEV_NET_DUPLEX,      "dev.net-duplex-2",       NET_DEV_CFG_SPEED,   "net device presents duplex 2 with SPEED_DUPLEX") \
  X(DEV_NET_RX_NUM_BUFFERS, "dev.net-rx-num-buffers-zero", NET_DEV_RX_NUM_BUFFERS, "net device writes num_buffers 0 in the header of a received packet that fits one buffer") \
  X(DEV_NET_RX_FLAGS,    "dev.net-rx-data-valid",  NET_DEV_RX_FLAGS,    "net device sets DATA_VALID in receive headers whatever GUEST_CSUM says") \
  X(DEV_NET_RX_GSO,      "dev.net-rx-gso-tcpv4",   NET_DEV_RX_GSO,      "net device writes gso_type TCPV4 in receive headers whatever GUEST_TSO4 says") \
  X(DEV_NET_RX_TRUNCATE, "dev.net-rx-truncate",    NET_DEV_RX_HDR,      "net device cuts a frame too big for the receive buffer down to what fits, instead of dropping it") \
  X(DEV_NET_RX_ANY_PAIR, "dev.net-rx-any-pair",    NET_DEV_MQ_RXQ,      "net device steers received frames over every queue pair it has, not only those VQ_PAIRS_SET enabled") \
  X(DEV_NET_CTRL_ACK,    "dev.net-ctrl-ack-2",     NET_DEV_CTRL_ACK,    "net device writes ack 2 for every control command") \
  X(DEV_NET_MAC_LATE,    "dev.net-mac-addr-late",  NET_DEV_MAC_ADDR,    "net device acknowledges MAC_ADDR_SET without updating mac in config space") \
  X(DEV_NET_ANNOUNCE_STICKY, "dev.net-announce-sticky", NET_DEV_ANNOUNCE, "net device acknowledges ANNOUNCE_ACK and leaves ANNOUNCE set in status") \
  X(DEV_NET_TX_CSUM_ALWAYS, "dev.net-tx-csum-always", NET_DEV_TX_CSUM_UNUSED, "net device completes a checksum at csum_start + csum_offset even without NEEDS_CSUM") \
  X(DEV_NET_TX_DROP_BIG, "dev.net-tx-drop-over-1000", NET_DEV_TX_FORWARD, "net device drops transmitted packets longer than 1000 bytes (gso_type NONE)") \
  X(DRV_NET_FEATURE_DEPS, "drv.net-feature-deps",  NET_DRV_FEATURE_DEPS, "net driver accepts features without those they require (no closure over the requirement table)") \
  X(DRV_NET_TX_NUM_BUFFERS, "drv.net-tx-num-buffers", NET_DRV_TX_NUM_BUFFERS, "net driver sends transmit headers with num_buffers 1") \
  X(DRV_NET_TX_SHORT_HEADER, "drv.net-tx-short-header", NET_DRV_TX_HDR, "net driver sends a transmit buffer of 10 bytes (a cut header)") \
  X(DRV_NET_TX_FLAGS,    "drv.net-tx-data-valid",  NET_DRV_TX_FLAGS,    "net driver sets DATA_VALID in transmit headers") \
  X(DRV_NET_TX_GSO,      "drv.net-tx-gso-tcpv4",   NET_DRV_TX_GSO,      "net driver marks transmitted packets gso_type TCPV4 without HOST_TSO4") \
  X(DRV_NET_TX_CSUM,     "drv.net-tx-csum-offset", NET_DRV_TX_CSUM,     "net driver writes csum_offset 0xffff in transmit headers with NEEDS_CSUM") \
  X(DRV_NET_RX_SMALL,    "drv.net-rx-buffer-8",    NET_DRV_RX_BUF,      "net driver posts 8-byte receive buffers (with MRG_RXBUF: less than a header)") \
  X(DRV_NET_CTRL_RX_EXTRA, "drv.net-ctrl-alluni",  NET_DRV_CTRL_RX,     "net driver sends its PROMISC commands as ALLUNI, which needs CTRL_RX_EXTRA") \
  X(DRV_NET_CTRL_MAC_COUNT, "drv.net-mac-table-count", NET_DRV_CTRL_MAC, "net driver's MAC_TABLE_SET counts one unicast address more than it carries") \
  X(DRV_NET_MQ_PAIRS,    "drv.net-pairs-over-max", NET_DRV_MQ_PAIRS,    "net driver asks VQ_PAIRS_SET for max_virtqueue_pairs + 1") \
  X(DEV_GPU_FENCE_NO_ECHO, "dev.gpu-fence-no-echo", GPU_DEV_FENCE_ECHO, "virtio-gpu: the response to a fenced command has neither VIRTIO_GPU_FLAG_FENCE nor the request's fence_id") \
  X(DEV_GPU_FENCE_EARLY, "dev.gpu-fence-early", GPU_DEV_FENCE_COMPLETE, "virtio-gpu: a fenced command is answered before it is processed (it runs after the next command)") \
  X(DEV_GPU_3D_ACCEPTED, "dev.gpu-3d-accepted", GPU_DEV_RESPONSE_TYPE, "virtio-gpu: 3D and context commands are answered OK_NODATA although VIRGL was never offered") \
  X(DEV_GPU_DISPLAY_PHANTOM, "dev.gpu-display-phantom", GPU_DEV_DISPLAY_INFO, "virtio-gpu: GET_DISPLAY_INFO reports an enabled display past num_scanouts") \
  X(DEV_GPU_EVENTS_STICKY, "dev.gpu-events-sticky", GPU_DEV_EVENTS_CLEAR, "virtio-gpu: writes to events_clear are ignored: events_read keeps the bit") \
  X(DEV_NET_RX_SPLIT_PUBLISH, "dev.net-rx-split-publish", NET_DEV_RX_TOGETHER, "net device publishes the buffers of a packet spread over several (MRG_RXBUF) as its per-turn budget allows: the driver sees the first before the rest") \
  X(DRV_NET_COAL_UNNEGOTIATED, "drv.net-notf-coal-unnegotiated", NET_DRV_COAL_FEATURE, "net driver does not accept VIRTIO_NET_F_NOTF_COAL but sends its NOTF_COAL commands anyway") \
  X(DEV_NET_COAL_STICKY, "dev.net-notf-coal-sticky", NET_DEV_COAL_RESET, "net device keeps the coalescing parameters of NOTF_COAL_TX_SET / RX_SET across a device reset") \
  X(DRV_NET_OFFLOADS_TSO4, "drv.net-offloads-tso4", NET_DRV_OFFLOADS, "net driver's GUEST_OFFLOADS_SET also enables GUEST_TSO4, whether negotiated or not") \
  X(DEV_NET_OFFLOADS_IGNORED, "dev.net-offloads-ignored", NET_DEV_RX_OFFLOADS, "net device acknowledges GUEST_OFFLOADS_SET and keeps the offloads it had") \
  X(DEV_NET_RX_NB_PLUS_ONE, "dev.net-rx-num-buffers-plus-one", NET_DEV_RXBUF_COUNT, "net device writes num_buffers one more than the buffers a packet spread over several fills") \
  X(DRV_NET_NO_ANNOUNCE_ACK, "drv.net-announce-unacked", NET_DRV_ANNOUNCE_ACK, "net driver sees ANNOUNCE in status but sends its ANNOUNCE_ACK commands as class 0xff (never acknowledging)") \
  X(DRV_NET_TX_GSO_AS_NONE, "drv.net-tx-gso-as-none", NET_DRV_TX_MTU, "net driver sends its GSO packets with gso_type NONE (unsegmented, longer than mtu + 14)") \
  X(DEV_FRAMING_HEADER_ALONE, "dev.framing-header-alone", RING_DEV_FRAMING, "blk: a request whose first descriptor is not exactly the 16-byte header, or whose status byte is not a descriptor of its own, completes with IOERR") \
  X(DEV_INDIRECT_WRITE_FLAG, "dev.indirect-write-flag", INDIR_DEV_SHAPE, "split ring: the device refuses a chain whose indirect descriptor has WRITE set (stops the queue, DEVICE_NEEDS_RESET)") \
  X(DEV_INDIRECT_NOT_HEAD, "dev.indirect-not-head", INDIR_DEV_SHAPE, "split ring: the device refuses a chain whose indirect descriptor comes after direct ones (stops the queue, DEVICE_NEEDS_RESET)") \
  X(DEV_CONFIG_ZERO_EARLY, "dev.config-zero-before-features-ok", CONFIG_DEV_BEFORE_FEATURES_OK, "device-specific config space reads all zeroes until the driver sets FEATURES_OK") \
  X(DEV_REFUSE_SUBSET,   "dev.refuse-subset",      FEAT_DEV_ACCEPT_SUBSET, "device refuses FEATURES_OK unless the driver accepts every feature it offered") \
  X(DRV_DESC_ADDR_SIGNEXT, "drv.desc-addr-sign-extended", SPLIT_DESC_ADDR, "split ring: the first buffer of each chain gets its address sign-extended from 32 bits (0xffffffff in the upper half), outside guest memory") \
  X(DRV_INDIR_NESTED,    "drv.indirect-nested",    INDIR_NESTED,        "split ring: the last entry of each indirect table keeps the INDIRECT flag of the descriptor that points to the table (a flags variable not reset)") \
  X(DRV_REPLY_IN_PLACE,  "drv.desc-reply-in-place", SPLIT_WRITE_OVERLAP, "split ring: a chain's last device-writable buffer is placed over its first device-readable one (the reply written in place of the request)") \
  X(DRV_PACKED_REST_OTHER_LAP, "drv.packed-rest-other-lap", PACKED_PARTIAL, "packed ring: the descriptors after a list's head carry the AVAIL/USED pair of the other lap (the wrap counter inverted for them), so only the head is available") \
  X(DRV_PACKED_ADDR_SIGNEXT, "drv.packed-desc-addr-sign-extended", PACKED_DESC_ADDR, "packed ring: the first buffer of each list gets its address sign-extended from 32 bits (0xffffffff in the upper half), outside guest memory") \
  X(DRV_PACKED_REPLY_IN_PLACE, "drv.packed-desc-reply-in-place", PACKED_WRITE_OVERLAP, "packed ring: a list's last device-writable buffer is placed over its first device-readable one (the reply written in place of the request)") \
  X(DRV_MMIO_NOTIFY_PAST_LAST, "drv.mmio-notify-past-last", MMIO_NOTIFY_QUEUE, "driver's kicks of its last queue are followed by one of queue index num_queues, one past the last (a kick loop bounded by <=)") \
  X(DRV_BLK_SECTOR_PLUS_ONE, "drv.blk-read-sector-plus-one", BLK_DRV_CAPACITY, "blk driver: reads address the sector after the one asked (an off-by-one in the sector computation), so a read of the last sector lies past capacity") \
  X(DRV_BLK_DISCARD_SPLIT, "drv.blk-discard-split", BLK_DRV_SEGMENTS, "blk driver: cuts every DISCARD range into max_discard_seg + 1 segments (its segment limit checked with <=)") \
  X(DRV_PCI_QUEUE_SIZE_MASK, "drv.pci-queue-size-mask", PCI_QUEUE_SIZE, "virtio-pci: driver first writes queue_size as the ring's index mask (size - 1, no power of 2), then the size") \
  X(DRV_PCI_QUEUE_SIZE_LIVE, "drv.pci-queue-size-after-enable", PCI_QUEUE_LIVE, "virtio-pci: driver writes queue_size again after setting queue_enable") \
  X(DRV_DESC_RELINK_ON_KICK, "drv.desc-relink-on-kick", DRV_ALTER_EXPOSED, "after kicking, the driver frees the chain it just made available as if it were used: it links the chain's last descriptor (split; packed: its indirect table's last entry) into its free list in guest memory (next field; packed: the entry's unused id), before the device used it") \
  X(VU_REPLY_NO_REPLY_FLAG, "vu.reply-no-reply-flag", VU_REPLY_HEADER, "vhost-user back-end: answers GET_VRING_BASE with flags 0x1 (version 1, the REPLY bit left out)") \
  X(VU_REPLY_SHORT,      "vu.reply-short",         VU_REPLY_SIZE,       "vhost-user back-end: answers GET_VRING_BASE with a 4-byte payload (the ring's num, without its index)") \
  X(VU_REPLY_STRAY_FD,   "vu.reply-stray-fd",      VU_REPLY_FDS,        "vhost-user back-end: answers GET_VRING_BASE with a file descriptor attached (as if handing the ring's kick eventfd back)") \
  X(VU_REPLY_DROPPED,    "vu.reply-dropped",       VU_REPLY_MISSING,    "vhost-user back-end: never sends the REPLY_ACK that RESET_DEVICE asked for") \
  X(VU_ACK_FAILURE,      "vu.ack-failure",         VU_ACK_FAILED,       "vhost-user back-end: acknowledges RESET_DEVICE (a request it offered) with status 1 (failure)") \
  X(VU_HANG_UP,          "vu.hang-up",             VU_BACKEND_GONE,     "vhost-user back-end: closes the connection instead of answering GET_VRING_BASE (exits when a ring stops)") \
  X(VU_CONFIG_OFFSET_IGNORED, "vu.config-offset-ignored", VU_CONFIG_OFFSET, "vhost-user back-end: answers GET_CONFIG with the bytes at offset 0, whatever offset was asked") \
  X(VU_CONFIG_SHORT,     "vu.config-short",        VU_CONFIG_SIZE,      "vhost-user back-end: refuses GET_CONFIG of the whole config structure and answers one 4 bytes shorter (its struct predates the last field)") \
  X(DRV_BLK_WRITEBACK_EARLY, "drv.blk-writeback-early", BLK_DRV_WRITEBACK_EARLY, "blk driver: reads writeback with the config fields it reads before FEATURES_OK (the cache mode taken before negotiation settled it)") \
  X(DEV_NET_VLAN_UNFILTERED, "dev.net-vlan-unfiltered", NET_DEV_VLAN_FILTER, "net device with CTRL_VLAN negotiated ignores its VLAN filter table: tagged frames of every VLAN id are received") \
  X(DRV_GPU_BLOB_SIZE_PAGES, "drv.gpu-blob-size-pages", GPU_DRV_BLOB_SIZE, "gpu driver: sizes RESOURCE_CREATE_BLOB in 4 KiB pages, not blob_alignment units (one page more than an aligned size)") \
  X(DRV_GPU_MAP_OFFSET_PAGES, "drv.gpu-map-offset-pages", GPU_DRV_MAP_OFFSET, "gpu driver: places RESOURCE_MAP_BLOB at a 4 KiB page offset, not a blob_alignment one (one page past an aligned offset)") \
  X(DRV_AVAIL_IDX_BEFORE_ENTRY, "drv.avail-idx-before-entry", SPLIT_DRV_IDX_BEFORE_ENTRY, "split ring: the driver publishes avail.idx first and writes the available ring entries it covers afterwards (the write barrier before the idx update missing, the stores in the wrong order)") \
  X(DEV_PACKED_TAKE_SKIP, "dev.packed-take-skip", PACKED_DEV_TAKE_ORDER, "packed ring: with two lists available, the device takes the second before the first (then the first: no list is lost)") \
  X(DEV_QUEUE_REENABLE_STALE, "dev.queue-reenable-stale", RESET_DEV_REENABLE_CONFIG, "a queue re-enabled after its reset keeps the size it had before, whatever size the driver configured for it (the new ring addresses are taken)") \
  X(DEV_PCI_NO_CFG_CAP,  "dev.pci-no-cfg-cap",     PCI_DEV_CFG_CAP,     "virtio-pci: the function presents no VIRTIO_PCI_CAP_PCI_CFG capability") \
  X(DEV_PCI_CFG_WINDOW_STALE, "dev.pci-cfg-window-stale", PCI_DEV_CFG_WINDOW, "virtio-pci: a read of pci_cfg_data executes no BAR access: it presents the bytes last written there") \
  X(DRV_PCI_CFG_WINDOW_MISALIGNED, "drv.pci-cfg-window-misaligned", PCI_DRV_CFG_WINDOW, "virtio-pci: driver reads config_generation through the PCI_CFG window as a 2-byte access at its odd offset (cap.offset not a multiple of cap.length)") \
  X(DEV_PCI_REVISION_ZERO, "dev.pci-revision-zero",  PCI_DEV_NONTRANSITIONAL_IDS, "virtio-pci: the non-transitional function presents PCI Revision ID 0 (a legacy driver's match)") \
  X(DRV_PCI_CAP_WRITE,   "drv.pci-cap-write",      PCI_DRV_CAP_WRITE,   "virtio-pci: driver writes notify_off_multiplier back into the notify capability during its walk") \
  X(DEV_PCI_CONFIG_IRQ_UNMAPPED, "dev.pci-config-irq-unmapped", PCI_DEV_CONFIG_IRQ_UNMAPPED, "virtio-pci: with config_msix_vector NO_VECTOR, a configuration change interrupts on vector 0 anyway") \
  X(DRV_COMBINED_IRQ_QUEUE_ONLY, "drv.combined-irq-queue-only", PCI_DRV_COMBINED_IRQ, "driver handles an interrupt that says both used buffers and a configuration change as a used-buffer interrupt only") \
  X(DEV_PCI_DEVICE_ID_TYPE, "dev.pci-device-id-type", PCI_DEV_DISCOVERY_IDS, "virtio-pci: the function's PCI Device ID is 0x1040 + its virtio device ID + 1 (another type's)")
/* clang-format on */

enum vsim_mutant {
#define VSIM_X_MUT(e, name, check, what) VSIM_MUT_##e,
  VSIM_MUTANT_LIST(VSIM_X_MUT)
#undef VSIM_X_MUT
  VSIM_MUT__COUNT
};

/* A set of mutants: a bit per enum vsim_mutant, in a fixed number of words
 * (the set is part of vsim_backend_params, so its size is ABI: widening it
 * again bumps VSIM_BACKEND_ABI_VERSION). Passed by value where a set is built,
 * by pointer where it is only tested. */
#define VSIM_MUT_WORDS 4
typedef struct vsim_mutset {
  uint64_t w[VSIM_MUT_WORDS];
} vsim_mutset;
_Static_assert(VSIM_MUT__COUNT <= 64 * VSIM_MUT_WORDS, "widen vsim_mutset (VSIM_MUT_WORDS)");

#define VSIM_MUT_NONE ((vsim_mutset){{0}})
#define VSIM_MUTBIT(m) vsim_mut_one(VSIM_MUT_##m)

/* Is mutant m (enum vsim_mutant) in s? Out-of-range m: no. */
static inline bool vsim_mut_has(const vsim_mutset *s, int m) {
  if (m < 0 || m >= 64 * VSIM_MUT_WORDS) return false;
  return (s->w[m / 64] >> (m % 64)) & 1u;
}
static inline void vsim_mut_add(vsim_mutset *s, int m) {
  if (m >= 0 && m < 64 * VSIM_MUT_WORDS) s->w[m / 64] |= UINT64_C(1) << (m % 64);
}
static inline vsim_mutset vsim_mut_one(int m) {
  vsim_mutset s = VSIM_MUT_NONE;
  vsim_mut_add(&s, m);
  return s;
}
static inline vsim_mutset vsim_mut_or(vsim_mutset a, vsim_mutset b) {
  for (int i = 0; i < VSIM_MUT_WORDS; i++) a.w[i] |= b.w[i];
  return a;
}
static inline bool vsim_mut_any(const vsim_mutset *s) {
  for (int i = 0; i < VSIM_MUT_WORDS; i++)
    if (s->w[i]) return true;
  return false;
}
static inline bool vsim_mut_equal(const vsim_mutset *a, const vsim_mutset *b) {
  for (int i = 0; i < VSIM_MUT_WORDS; i++)
    if (a->w[i] != b->w[i]) return false;
  return true;
}

#ifdef __cplusplus
extern "C" {
#endif
/* The mutant called `name` (enum vsim_mutant), or -1. */
int vsim_mutant_lookup(const char *name);
/* Its name, the check it breaks (enum vsim_check_id) and what it does; NULL /
 * -1 out of range. */
const char *vsim_mutant_name(int mutant);
int vsim_mutant_check(int mutant);
const char *vsim_mutant_what(int mutant);
#ifdef __cplusplus
}
#endif

#endif
