/* backend-model/net_deps.c — virtio-net's feature bit requirements (see net_deps.h). */
#include <stddef.h>
#include <linux/virtio_net.h>
#include "net_deps.h"

#define BIT(b) (UINT64_C(1) << (b))

/* One row of the table: `bit` needs all of `all` and at least one of `any`
 * (when `any` is not 0). */
typedef struct net_dep {
  unsigned bit;
  uint64_t all, any;
} net_dep;

static const net_dep deps[] = {
    {VIRTIO_NET_F_GUEST_TSO4, BIT(VIRTIO_NET_F_GUEST_CSUM), 0},
    {VIRTIO_NET_F_GUEST_TSO6, BIT(VIRTIO_NET_F_GUEST_CSUM), 0},
    {VIRTIO_NET_F_GUEST_ECN, 0, BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6)},
    {VIRTIO_NET_F_GUEST_UFO, BIT(VIRTIO_NET_F_GUEST_CSUM), 0},
    {VIRTIO_NET_F_HOST_TSO4, BIT(VIRTIO_NET_F_CSUM), 0},
    {VIRTIO_NET_F_HOST_TSO6, BIT(VIRTIO_NET_F_CSUM), 0},
    {VIRTIO_NET_F_HOST_ECN, 0, BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6)},
    {VIRTIO_NET_F_HOST_UFO, BIT(VIRTIO_NET_F_CSUM), 0},
    {VIRTIO_NET_F_CTRL_RX, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_CTRL_VLAN, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_GUEST_ANNOUNCE, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_MQ, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_CTRL_MAC_ADDR, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_NOTF_COAL, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
    {VIRTIO_NET_F_RSC_EXT, 0, BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6)},
    {VIRTIO_NET_F_RSS, BIT(VIRTIO_NET_F_CTRL_VQ), 0},
};

uint64_t vsim_net_unmet_deps(uint64_t f) {
  uint64_t bad = 0;
  for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++) {
    const net_dep *d = &deps[i];
    if (!(f & BIT(d->bit))) continue;
    if ((f & d->all) != d->all || (d->any && !(f & d->any))) bad |= BIT(d->bit);
  }
  return bad;
}

uint64_t vsim_net_close_deps(uint64_t f) {
  /* each pass drops at least one bit or stops: at most 64 passes */
  for (unsigned pass = 0; pass < 64; pass++) {
    uint64_t bad = vsim_net_unmet_deps(f);
    if (!bad) break;
    f &= ~bad;
  }
  return f;
}

uint64_t vsim_net_rx_offloads(void) {
  return BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
         BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO);
}
