/* sim/names.c — the names a scenario (and the CLI, and reports) use for
 * feature bits, device status bits, scheduling policies and step ops.
 *
 * Owns: the name <-> number tables. Bit numbers and status values come from
 * the kernel's UAPI headers; only the bits those headers (linux-libc-dev 6.1)
 * do not define yet are defined here, under #ifndef guards so that a newer
 * header wins.
 * Must never: hold mutable state, or hand-write a constant a UAPI header
 * already defines.
 */
#include <stddef.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_net.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ring.h>

#include "scenario.h"

#include "virtio_compat.h"

typedef struct vsim_name_bit {
  const char *name;
  unsigned bit;
} vsim_name_bit;

/* Device-independent bits: valid whatever the device. */
static const vsim_name_bit generic_features[] = {
    {"NOTIFY_ON_EMPTY", VIRTIO_F_NOTIFY_ON_EMPTY},
    {"ANY_LAYOUT", VIRTIO_F_ANY_LAYOUT},
    {"INDIRECT_DESC", VIRTIO_RING_F_INDIRECT_DESC},
    {"EVENT_IDX", VIRTIO_RING_F_EVENT_IDX},
    {"VERSION_1", VIRTIO_F_VERSION_1},
    {"ACCESS_PLATFORM", VIRTIO_F_ACCESS_PLATFORM},
    {"RING_PACKED", VIRTIO_F_RING_PACKED},
    {"IN_ORDER", VIRTIO_F_IN_ORDER},
    {"ORDER_PLATFORM", VIRTIO_F_ORDER_PLATFORM},
    {"SR_IOV", VIRTIO_F_SR_IOV},
    {"NOTIFICATION_DATA", VIRTIO_F_NOTIFICATION_DATA},
    {"RING_RESET", VIRTIO_F_RING_RESET},
};

static const vsim_name_bit blk_features[] = {
    {"SIZE_MAX", VIRTIO_BLK_F_SIZE_MAX},
    {"SEG_MAX", VIRTIO_BLK_F_SEG_MAX},
    {"GEOMETRY", VIRTIO_BLK_F_GEOMETRY},
    {"RO", VIRTIO_BLK_F_RO},
    {"BLK_SIZE", VIRTIO_BLK_F_BLK_SIZE},
    {"FLUSH", VIRTIO_BLK_F_FLUSH},
    {"TOPOLOGY", VIRTIO_BLK_F_TOPOLOGY},
    {"CONFIG_WCE", VIRTIO_BLK_F_CONFIG_WCE},
    {"MQ", VIRTIO_BLK_F_MQ},
    {"DISCARD", VIRTIO_BLK_F_DISCARD},
    {"WRITE_ZEROES", VIRTIO_BLK_F_WRITE_ZEROES},
    {"LIFETIME", VIRTIO_BLK_F_LIFETIME},
    {"SECURE_ERASE", VIRTIO_BLK_F_SECURE_ERASE},
    {"ZONED", VIRTIO_BLK_F_ZONED},
};

static const vsim_name_bit net_features[] = {
    {"CSUM", VIRTIO_NET_F_CSUM},
    {"GUEST_CSUM", VIRTIO_NET_F_GUEST_CSUM},
    {"CTRL_GUEST_OFFLOADS", VIRTIO_NET_F_CTRL_GUEST_OFFLOADS},
    {"MTU", VIRTIO_NET_F_MTU},
    {"MAC", VIRTIO_NET_F_MAC},
    {"GUEST_TSO4", VIRTIO_NET_F_GUEST_TSO4},
    {"GUEST_TSO6", VIRTIO_NET_F_GUEST_TSO6},
    {"GUEST_ECN", VIRTIO_NET_F_GUEST_ECN},
    {"GUEST_UFO", VIRTIO_NET_F_GUEST_UFO},
    {"HOST_TSO4", VIRTIO_NET_F_HOST_TSO4},
    {"HOST_TSO6", VIRTIO_NET_F_HOST_TSO6},
    {"HOST_ECN", VIRTIO_NET_F_HOST_ECN},
    {"HOST_UFO", VIRTIO_NET_F_HOST_UFO},
    {"MRG_RXBUF", VIRTIO_NET_F_MRG_RXBUF},
    {"STATUS", VIRTIO_NET_F_STATUS},
    {"CTRL_VQ", VIRTIO_NET_F_CTRL_VQ},
    {"CTRL_RX", VIRTIO_NET_F_CTRL_RX},
    {"CTRL_VLAN", VIRTIO_NET_F_CTRL_VLAN},
    {"CTRL_RX_EXTRA", VIRTIO_NET_F_CTRL_RX_EXTRA},
    {"GUEST_ANNOUNCE", VIRTIO_NET_F_GUEST_ANNOUNCE},
    {"MQ", VIRTIO_NET_F_MQ},
    {"CTRL_MAC_ADDR", VIRTIO_NET_F_CTRL_MAC_ADDR},
    {"NOTF_COAL", VIRTIO_NET_F_NOTF_COAL},
    {"HASH_REPORT", VIRTIO_NET_F_HASH_REPORT},
    {"RSS", VIRTIO_NET_F_RSS},
    {"RSC_EXT", VIRTIO_NET_F_RSC_EXT},
    {"STANDBY", VIRTIO_NET_F_STANDBY},
    {"SPEED_DUPLEX", VIRTIO_NET_F_SPEED_DUPLEX},
};

static const vsim_name_bit console_features[] = {
    {"SIZE", VIRTIO_CONSOLE_F_SIZE},
    {"MULTIPORT", VIRTIO_CONSOLE_F_MULTIPORT},
    {"EMERG_WRITE", VIRTIO_CONSOLE_F_EMERG_WRITE},
};

/* VIRGL (3D) has a name so that a scenario can offer or accept it on
 * purpose; the built-in model never offers it. */
static const vsim_name_bit gpu_features[] = {
    {"VIRGL", VIRTIO_GPU_F_VIRGL},
    {"EDID", VIRTIO_GPU_F_EDID},
    {"RESOURCE_UUID", VIRTIO_GPU_F_RESOURCE_UUID},
    {"RESOURCE_BLOB", VIRTIO_GPU_F_RESOURCE_BLOB},
    {"CONTEXT_INIT", VIRTIO_GPU_F_CONTEXT_INIT},
    {"BLOB_ALIGNMENT", VIRTIO_GPU_F_BLOB_ALIGNMENT},
};

static const vsim_name_bit status_bits[] = {
    {"ACKNOWLEDGE", VIRTIO_CONFIG_S_ACKNOWLEDGE},
    {"DRIVER", VIRTIO_CONFIG_S_DRIVER},
    {"DRIVER_OK", VIRTIO_CONFIG_S_DRIVER_OK},
    {"FEATURES_OK", VIRTIO_CONFIG_S_FEATURES_OK},
    {"NEEDS_RESET", VIRTIO_CONFIG_S_NEEDS_RESET},
    {"FAILED", VIRTIO_CONFIG_S_FAILED},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Indexed by enum vsim_op; slot 0 is unused because VSIM_OP_INIT is 1 so that
 * a zeroed step is never a valid op. */
static const char *const op_names[] = {
    [VSIM_OP_INIT] = "init",
    [VSIM_OP_RESET] = "reset",
    [VSIM_OP_WAIT] = "wait",
    [VSIM_OP_POLL] = "poll",
    [VSIM_OP_KICK] = "kick",
    [VSIM_OP_BLK_READ] = "blk.read",
    [VSIM_OP_BLK_WRITE] = "blk.write",
    [VSIM_OP_BLK_FLUSH] = "blk.flush",
    [VSIM_OP_BLK_GET_ID] = "blk.get_id",
    [VSIM_OP_BLK_DISCARD] = "blk.discard",
    [VSIM_OP_BLK_WRITE_ZEROES] = "blk.write_zeroes",
    [VSIM_OP_BLK_RAW] = "blk.raw",
    [VSIM_OP_RAW_DESC] = "raw.desc",
    [VSIM_OP_RAW_AVAIL] = "raw.avail",
    [VSIM_OP_RAW_AVAIL_IDX] = "raw.avail_idx",
    [VSIM_OP_RAW_AVAIL_FLAGS] = "raw.avail_flags",
    [VSIM_OP_RAW_USED_EVENT] = "raw.used_event",
    [VSIM_OP_RAW_WRITE] = "raw.write",
    [VSIM_OP_FAULT_DEVICE_RESET] = "fault.device_reset",
    [VSIM_OP_FAULT_DELAY_IRQ] = "fault.delay_irq",
    [VSIM_OP_FAULT_NEEDS_RESET] = "fault.needs_reset",
    [VSIM_OP_EXPECT] = "expect",
    [VSIM_OP_DRIVER_OK] = "driver_ok",
    [VSIM_OP_RAW_PDESC] = "raw.pdesc",
    [VSIM_OP_RAW_PPUBLISH] = "raw.ppublish",
    [VSIM_OP_QUEUE_RESET] = "queue.reset",
    [VSIM_OP_QUEUE_ENABLE] = "queue.enable",
    [VSIM_OP_DEV_USED] = "dev.used",
    [VSIM_OP_DEV_USED_IDX] = "dev.used_idx",
    [VSIM_OP_DEV_USED_FLAGS] = "dev.used_flags",
    [VSIM_OP_DEV_AVAIL_EVENT] = "dev.avail_event",
    [VSIM_OP_DEV_PUSED] = "dev.pused",
    [VSIM_OP_DEV_PEVENT] = "dev.pevent",
    [VSIM_OP_DEV_IRQ] = "dev.irq",
    [VSIM_OP_DEV_WRITE] = "dev.write",
    [VSIM_OP_DEV_CONFIG] = "dev.config",
    [VSIM_OP_DEV_NEEDS_RESET] = "dev.needs_reset",
    [VSIM_OP_MMIO_READ] = "mmio.read",
    [VSIM_OP_MMIO_WRITE] = "mmio.write",
    [VSIM_OP_REQ_RAW] = "req.raw",
    [VSIM_OP_HOST_INPUT] = "host.input",
    [VSIM_OP_EXPECT_OUTPUT] = "expect.output",
    [VSIM_OP_HOST_EVENT] = "host.event",
    [VSIM_OP_GPU_EXPECT_SCANOUT] = "gpu.expect_scanout",
    [VSIM_OP_PCI_CFG_READ] = "pci.cfg.read",
    [VSIM_OP_PCI_CFG_WRITE] = "pci.cfg.write",
};

static const char *const policy_names[] = {
    [VSIM_POLICY_SCRIPTED] = "scripted",
    [VSIM_POLICY_ROUND_ROBIN] = "round-robin",
    [VSIM_POLICY_RANDOM] = "random",
};

static int names_lookup(const vsim_name_bit *t, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0) return (int)t[i].bit;
  return -1;
}

static const char *names_reverse(const vsim_name_bit *t, size_t n, unsigned bit) {
  for (size_t i = 0; i < n; i++)
    if (t[i].bit == bit) return t[i].name;
  return NULL;
}

/* "bit:N", N decimal 0..63 with at most two digits: the escape hatch for
 * bits that have no name (yet), e.g. reserved bits a hostile driver sets. */
static int names_parse_raw_bit(const char *name) {
  if (strncmp(name, "bit:", 4) != 0) return -1;
  const char *d = name + 4;
  size_t n = strlen(d);
  if (n < 1 || n > 2) return -1;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (d[i] < '0' || d[i] > '9') return -1;
    v = v * 10 + (d[i] - '0');
  }
  return v <= 63 ? v : -1;
}

static bool names_device_is_blk(const char *device) {
  return device != NULL && strcmp(device, "blk") == 0;
}

/* The device's own feature names (NULL, 0 for a device without any). */
static const vsim_name_bit *names_device_features(const char *device, size_t *n) {
  if (device != NULL && strcmp(device, "console") == 0) {
    *n = COUNT_OF(console_features);
    return console_features;
  }
  if (device != NULL && strcmp(device, "net") == 0) {
    *n = COUNT_OF(net_features);
    return net_features;
  }
  if (device != NULL && strcmp(device, "gpu") == 0) {
    *n = COUNT_OF(gpu_features);
    return gpu_features;
  }
  *n = 0;
  return NULL;
}

int vsim_feature_bit_by_name(const char *device, const char *name) {
  if (name == NULL) return -1;
  int bit = names_lookup(generic_features, COUNT_OF(generic_features), name);
  if (bit >= 0) return bit;
  if (names_device_is_blk(device)) {
    bit = names_lookup(blk_features, COUNT_OF(blk_features), name);
    if (bit >= 0) return bit;
  }
  size_t nd;
  const vsim_name_bit *dev = names_device_features(device, &nd);
  bit = dev ? names_lookup(dev, nd, name) : -1;
  if (bit >= 0) return bit;
  return names_parse_raw_bit(name);
}

const char *vsim_feature_name(const char *device, unsigned bit) {
  const char *n = names_reverse(generic_features, COUNT_OF(generic_features), bit);
  if (n == NULL && names_device_is_blk(device))
    n = names_reverse(blk_features, COUNT_OF(blk_features), bit);
  size_t nd;
  const vsim_name_bit *dev = names_device_features(device, &nd);
  if (n == NULL && dev) n = names_reverse(dev, nd, bit);
  return n;
}

/* Returns the VIRTIO_CONFIG_S_* value (a mask, not a bit number). */
int vsim_status_bit_by_name(const char *name) {
  if (name == NULL) return -1;
  return names_lookup(status_bits, COUNT_OF(status_bits), name);
}

/* Unknown values give "?" rather than NULL: these feed printf in reports. */
const char *vsim_policy_name(enum vsim_policy p) {
  if ((unsigned)p >= COUNT_OF(policy_names)) return "?";
  return policy_names[p];
}

const char *vsim_op_name(enum vsim_op op) {
  if ((unsigned)op >= COUNT_OF(op_names) || op_names[op] == NULL) return "?";
  return op_names[op];
}

const char *vsim_feature_name_at(const char *device, size_t i) {
  if (i < COUNT_OF(generic_features)) return generic_features[i].name;
  i -= COUNT_OF(generic_features);
  if (names_device_is_blk(device) && i < COUNT_OF(blk_features)) return blk_features[i].name;
  size_t nd;
  const vsim_name_bit *dev = names_device_features(device, &nd);
  if (dev && i < nd) return dev[i].name;
  return NULL;
}

const char *vsim_status_name_at(size_t i) {
  return i < COUNT_OF(status_bits) ? status_bits[i].name : NULL;
}
