#!/usr/bin/python3
"""Write the virtio-net scenarios: scenarios/net/ (well-formed), scenarios/net-edges/
(a driver breaking a rule on purpose: the device must cope) and the net mutant
proofs under scenarios/mutants/.

The frames carry real Ethernet/IPv4/UDP headers so that the checksums the
device completes (VIRTIO_NET_HDR_F_NEEDS_CSUM) can be checked byte for byte;
this script computes them (RFC 1071), which is why the scenarios are
generated rather than written by hand. Run it from anywhere; it rewrites the
files in place (deterministic output: same bytes every run).

Layouts (struct virtio_net_hdr_v1, <linux/virtio_net.h>): flags u8,
gso_type u8, hdr_len le16, gso_size le16, csum_start le16, csum_offset le16,
num_buffers le16. Control commands: class u8, command u8, data, then the
device-writable ack u8.
"""
import argparse
import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "scenarios"

MAC = bytes.fromhex("525400123456")       # the model's default mac
PEER = bytes.fromhex("5254000000aa")
OTHER = bytes.fromhex("5254000000bb")
BCAST = b"\xff" * 6

# every net feature the model offers, for scenarios that leave one out
ALL = ["VERSION_1", "RING_PACKED", "RING_RESET", "IN_ORDER", "INDIRECT_DESC", "EVENT_IDX", "CSUM", "GUEST_CSUM",
       "MAC", "MTU", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO", "HOST_TSO4", "HOST_TSO6", "HOST_ECN",
       "HOST_UFO", "MRG_RXBUF", "STATUS", "CTRL_VQ", "CTRL_RX", "CTRL_VLAN", "GUEST_ANNOUNCE", "MQ", "CTRL_MAC_ADDR",
       "SPEED_DUPLEX", "NOTF_COAL", "CTRL_GUEST_OFFLOADS"]


def without(*names):
    return [f for f in ALL if f not in names]


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def udp_frame(dst=PEER, payload=b"virtio-sim net!!!!!!", partial=False):
    """Ethernet + IPv4 + UDP. partial: the UDP checksum field holds the
    pseudo-header sum (what a driver leaves for NEEDS_CSUM); else the full
    checksum."""
    saddr, daddr = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    ulen = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", 0xFFFF - csum16(ip)) + ip[12:]
    pseudo = saddr + daddr + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", 1234, 5678, ulen, 0) + payload
    if partial:
        field = csum16(pseudo)
    else:
        field = 0xFFFF - csum16(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", field) + udp[8:]
    return eth(dst, MAC, 0x0800, ip + udp)


def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0, num_buffers=0):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, csum_start, csum_offset, num_buffers)


def hexs(b):
    return b.hex()


def tx(frame, queue=1, **h):
    return {"op": "req.raw", "queue": queue, "data": hexs(hdr(**h) + frame)}


def ctrl(cls, cmd, data=b"", ack=None, queue=2, comment=None):
    st = {"op": "req.raw", "queue": queue, "data": hexs(bytes([cls, cmd]) + data), "len": 1}
    if ack is not None:
        st["expect_used_len"] = 1
        st["expect_reply"] = [{"name": "ack", "offset": 0, "width": 1, "value": ack}]
    if comment:
        st["comment"] = comment
    return st


def rx_buf(frame=None, size=1526, queue=0, num_buffers=1, used=None):
    st = {"op": "req.raw", "queue": queue, "len": size}
    if frame is not None:
        st["expect_used_len"] = used if used is not None else 12 + len(frame)
        st["expect_reply"] = [
            {"name": "flags", "offset": 0, "width": 1, "value": 0},
            {"name": "gso_type", "offset": 1, "width": 1, "value": 0},
            {"name": "num_buffers", "offset": 10, "width": 2, "value": num_buffers},
            {"name": "frame", "offset": 12, "data": hexs(frame[: (used or 12 + len(frame)) - 12])},
        ]
    return st


def inp(frame, port=0):
    return {"op": "host.input", "port": port, "data": hexs(frame)}


def out(frame, port=0):
    return {"op": "expect.output", "port": port, "data": hexs(frame)}


WAIT = {"op": "wait"}
OK, ERR = 0, 1
# classes and commands (<linux/virtio_net.h>)
RX, MACC, VLAN, ANNOUNCE, MQ, OFFLOADS, NOTF_COAL = 0, 1, 2, 3, 4, 5, 6
TX_SET, RX_SET = 0, 1
# feature bit numbers (<linux/virtio_net.h>) for GUEST_OFFLOADS_SET's le64
GUEST_CSUM_BIT, GUEST_TSO4_BIT = 1, 7


def coal(cmd, packets, usecs, ack=None, **kw):
    """NOTF_COAL TX_SET / RX_SET: struct virtio_net_ctrl_coal_tx / _rx, le32 max_packets, le32 max_usecs."""
    return ctrl(NOTF_COAL, cmd, struct.pack("<II", packets, usecs), ack, **kw)


def offloads(bits, ack=None, **kw):
    return ctrl(OFFLOADS, 0, struct.pack("<Q", sum(1 << b for b in bits)), ack, **kw)


def write(rel, doc):
    p = ROOT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=2) + "\n")


def scenario(name, description, steps, violations=(), completed=None, interrupts=None, **top):
    doc = {"name": name, "description": description, "device": "net"}
    doc.update(top)
    doc["steps"] = steps
    doc["expect"] = {"violations": list(violations)}
    if completed is not None:
        doc["expect"]["completed"] = completed
    if interrupts is not None:
        doc["expect"]["interrupts"] = interrupts
    return doc


def well_formed():
    arp = eth(BCAST, MAC, 0x0806, bytes(46))
    write("net/tx-basic.json", scenario(
        "net-tx-basic", "a broadcast frame goes out on transmitq1 as sent, header stripped",
        [tx(arp), WAIT, out(arp)]))

    part = udp_frame(partial=True)
    full = udp_frame(partial=False)
    assert part != full
    write("net/tx-csum.json", scenario(
        "net-tx-csum", "NEEDS_CSUM: the device completes the UDP checksum from csum_start (34) and stores it at "
        "csum_offset (6); the frame on the wire carries the full checksum",
        [tx(part, flags=1, csum_start=34, csum_offset=6), WAIT, out(full)]))

    write("net/tx-gso-tcpv4.json", scenario(
        "net-tx-gso", "a GSO frame with HOST_TSO4 negotiated goes on the wire whole (a tap with vnet headers), "
        "its checksum completed",
        [tx(part, flags=1, gso=1, hdr_len=42, gso_size=1448, csum_start=34, csum_offset=6), WAIT, out(full)]))

    gpart = udp_frame(partial=True, payload=bytes(i % 253 for i in range(1100)))
    gfull = udp_frame(partial=False, payload=bytes(i % 253 for i in range(1100)))
    write("net/tx-gso-over-mtu.json", scenario(
        "net-tx-gso-over-mtu", "mtu 1000: a 1142-byte GSO frame (gso_type TCPV4, gso_size 960) may exceed mtu + 14 "
        "(only gso_type NONE may not: net.drv-tx-mtu); it goes on the wire whole, its checksum completed",
        [tx(gpart, flags=1, gso=1, hdr_len=42, gso_size=960, csum_start=34, csum_offset=6), WAIT, out(gfull)],
        device_config={"mtu": 1000}))

    write("net/tx-hdr-len-beyond-frame.json", scenario(
        "net-tx-hdr-len-beyond", "hdr_len far past the frame (gso_type NONE): the device MUST NOT rely on it "
        "and forwards the frame intact",
        [tx(arp, hdr_len=9000), WAIT, out(arp)]))

    write("net/tx-csum-fields-without-needs-csum.json", scenario(
        "net-tx-csum-fields-unused", "csum_start 34 and csum_offset 6 without NEEDS_CSUM: the device MUST NOT "
        "use them; the frame goes out exactly as sent (its checksum field left as it was)",
        [tx(part, csum_start=34, csum_offset=6), WAIT, out(part)]))

    jumbo = eth(BCAST, MAC, 0x88B5, bytes(i % 251 for i in range(1500)))
    write("net/tx-full-mtu-frame.json", scenario(
        "net-tx-full-mtu", "with MTU negotiated (mtu 1500) a 1514-byte frame goes out whole, unfragmented",
        [tx(jumbo), WAIT, out(jumbo)], arena_size=2097152))

    f1, f2 = udp_frame(dst=MAC), eth(BCAST, PEER, 0x0806, bytes(46))
    write("net/rx-basic.json", scenario(
        "net-rx-basic", "two buffers posted and held; two frames from the host land in them in order, each "
        "after a 12-byte header with num_buffers 1",
        [rx_buf(f1), rx_buf(f2), inp(f1), inp(f2), WAIT], completed=2))

    big = udp_frame(dst=MAC, payload=bytes(range(150)))
    n1, n2 = 64, 64
    steps = [
        {"op": "req.raw", "queue": 0, "len": n1, "expect_used_len": n1, "expect_reply": [
            {"name": "num_buffers", "offset": 10, "width": 2, "value": 3},
            {"name": "frame start", "offset": 12, "data": hexs(big[: n1 - 12])}]},
        {"op": "req.raw", "queue": 0, "len": n2, "expect_used_len": n2,
         "expect_reply": [{"name": "frame cont.", "offset": 0, "data": hexs(big[n1 - 12: n1 - 12 + n2])}]},
        {"op": "req.raw", "queue": 0, "len": 128, "expect_used_len": len(big) - (n1 - 12) - n2,
         "expect_reply": [{"name": "frame end", "offset": 0, "data": hexs(big[n1 - 12 + n2:])}]},
        inp(big), WAIT]
    write("net/rx-mrg-three-buffers.json", scenario(
        "net-rx-mrg", "MRG_RXBUF: a 192-byte frame spreads over three held buffers (64, 64, 128 bytes); the "
        "first two are used completely, num_buffers is 3 in the first header; all three are published together "
        "although the device uses one buffer per step (device_batch 1) and the driver looks between device steps "
        "(round-robin: net.dev-rx-buffers-together judges it)",
        steps, completed=3, policy="round-robin"))

    small = eth(BCAST, PEER, 0x0806, bytes(46))
    write("net/rx-too-big-dropped.json", scenario(
        "net-rx-too-big", "without MRG_RXBUF a frame larger than the held buffer is dropped, not truncated; the "
        "buffer takes the next frame that fits",
        [rx_buf(small, size=100), inp(big), inp(small), WAIT],
        accept_features=without("MRG_RXBUF", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO"), completed=1))

    write("net/rx-without-guest-csum.json", scenario(
        "net-rx-no-guest-csum", "without GUEST_CSUM (nor the GUEST_TSO/UFO features that need it) the receive "
        "header has flags 0 and gso_type NONE",
        [rx_buf(f1), inp(f1), WAIT],
        accept_features=without("GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO"), completed=1))

    to_other = eth(OTHER, PEER, 0x0800, bytes(46))
    to_me = eth(MAC, PEER, 0x0800, bytes(46))
    mcast = eth(bytes.fromhex("01005e000001"), PEER, 0x0800, bytes(46))
    write("net/ctrl-rx-mode.json", scenario(
        "net-ctrl-rx-mode", "PROMISC off: a frame for another mac is filtered, one for the device's mac and a "
        "broadcast pass; a multicast frame passes only once ALLMULTI is on",
        [ctrl(RX, 0, b"\x00", OK), WAIT, rx_buf(to_me), rx_buf(arp), rx_buf(mcast),
         inp(to_other), inp(to_me), inp(mcast), inp(arp), ctrl(RX, 1, b"\x01", OK), WAIT, inp(mcast), WAIT],
        completed=5))

    table = struct.pack("<I", 1) + OTHER + struct.pack("<I", 0)
    write("net/ctrl-mac-table.json", scenario(
        "net-ctrl-mac-table", "PROMISC off and a MAC table with one unicast address: a frame for it passes",
        [ctrl(RX, 0, b"\x00", OK), ctrl(MACC, 0, table, OK), WAIT, rx_buf(to_other),
         inp(eth(PEER, PEER, 0x0800, bytes(46))), inp(to_other), WAIT], completed=3))

    new_mac = bytes.fromhex("02aabbccddee")
    write("net/ctrl-mac-addr-set.json", scenario(
        "net-ctrl-mac-addr-set", "MAC_ADDR_SET: acknowledged OK, and the mac in config space reads the new "
        "address when the buffer is used (net.dev-mac-addr-set judges it); with PROMISC off the new address "
        "receives",
        [ctrl(MACC, 1, new_mac, OK), ctrl(RX, 0, b"\x00", OK), WAIT, rx_buf(eth(new_mac, PEER, 0x0800, bytes(46))),
         inp(to_me), inp(eth(new_mac, PEER, 0x0800, bytes(46))), WAIT], completed=3))

    def tagged(vid):
        return MAC + PEER + struct.pack("!HH", 0x8100, vid) + struct.pack("!H", 0x0800) + bytes(46)
    # The buffer's expectation stops before the VLAN id: dropping the frame
    # tagged 6 is a SHOULD (VLAN Filtering), judged by net.dev-vlan-filter as
    # a warning, so a device that keeps every tag still gets this far; that a
    # frame of VLAN 5 (in the table: a MUST) fills the buffer is expected.
    vlan_buf = rx_buf(tagged(5))
    vlan_buf["expect_reply"][-1]["data"] = hexs(tagged(5)[:14])
    write("net/ctrl-vlan.json", scenario(
        "net-ctrl-vlan", "CTRL_VLAN: VLAN 5 added; a frame tagged 5 passes, one tagged 6 is dropped "
        "(net.dev-vlan-filter judges the tag received); VLAN 5 removed again",
        [ctrl(VLAN, 0, struct.pack("<H", 5), OK), WAIT, vlan_buf, inp(tagged(6)), inp(tagged(5)), WAIT,
         ctrl(VLAN, 1, struct.pack("<H", 5), OK), WAIT], completed=3))
    write("net/vlan-not-negotiated.json", scenario(
        "net-vlan-not-negotiated", "CTRL_VLAN not negotiated: the device accepts every VLAN-tagged frame (VLAN "
        "Filtering: it MUST), so a frame tagged 6 with no VLAN table at all is received whole",
        [rx_buf(tagged(6)), inp(tagged(6)), WAIT], completed=1, accept_features=without("CTRL_VLAN")))

    write("net/ctrl-announce.json", scenario(
        "net-ctrl-announce", "the device asks for an announcement (ANNOUNCE in status at DRIVER_OK); the driver "
        "acknowledges and the bit is clear when the buffer is used (net.dev-announce-clear judges it)",
        [ctrl(ANNOUNCE, 0, b"", OK), WAIT], device_config={"announce": True}, completed=1))

    write("net/ctrl-malformed.json", scenario(
        "net-ctrl-malformed", "commands the device cannot carry out are refused with VIRTIO_NET_ERR and change "
        "nothing: unknown class, unknown command, a class byte alone, PROMISC with 2 data bytes or value 2, "
        "VLAN id 5000, ANNOUNCE_ACK with data, MAC_ADDR_SET of 5 bytes; then a good one is still OK",
        [ctrl(9, 0, b"", ERR), ctrl(RX, 7, b"\x01", ERR),
         {"op": "req.raw", "queue": 2, "data": "00", "len": 1, "expect_used_len": 1,
          "expect_reply": [{"name": "ack", "offset": 0, "width": 1, "value": ERR}]},
         ctrl(RX, 0, b"\x01\x00", ERR), ctrl(RX, 0, b"\x02", ERR), ctrl(VLAN, 0, struct.pack("<H", 5000), ERR),
         ctrl(ANNOUNCE, 0, b"\x00", ERR), ctrl(MACC, 1, new_mac[:5], ERR), ctrl(RX, 0, b"\x01", OK), WAIT],
        completed=9))

    mq_top = {"num_queues": 5}
    pair2_frame = udp_frame(dst=MAC, payload=b"pair two")
    write("net/mq-pairs.json", scenario(
        "net-mq-pairs", "two queue pairs and the control queue (index 4); VQ_PAIRS_SET 2: a flow from host port "
        "1 lands on receiveq2 (queue 2), a frame sent on transmitq2 (queue 3) comes out on port 1",
        [ctrl(MQ, 0, struct.pack("<H", 2), OK, queue=4), WAIT, rx_buf(pair2_frame, queue=2),
         inp(pair2_frame, port=1), tx(arp, queue=3), WAIT, out(arp, port=1)], completed=3, **mq_top))

    write("net/mq-default-one-pair.json", scenario(
        "net-mq-default", "two pairs but no VQ_PAIRS_SET yet: only receiveq1 receives, whatever the flow",
        [rx_buf(queue=2), rx_buf(pair2_frame, queue=0), inp(pair2_frame, port=1), WAIT], completed=1, **mq_top))

    # NOTF_COAL through the control queue: 8 frames, 4 per notification (1000 units of time: never the
    # limit here), so the transmitq sends 2 interrupts where it would send 8; the control queue 1
    frames8 = [tx(eth(BCAST, MAC, 0x0806, bytes([i]) * 46)) for i in range(8)]
    write("net/notf-coal-tx.json", scenario(
        "net-notf-coal-tx", "NOTF_COAL_TX_SET max_packets 4, max_usecs 1000: eight frames sent one after another "
        "come back with two used-buffer notifications (one per 4 packets) and the control command's one: 3 "
        "interrupts for 9 requests (8 without coalescing)",
        [coal(TX_SET, 4, 1000, OK), WAIT] + frames8 + [WAIT], completed=9, interrupts=3))
    write("net/notf-coal-reset.json", scenario(
        "net-notf-coal-reset", "NOTF_COAL_TX_SET max_packets 4, then a device reset: the parameters are 0 again, "
        "so each of two frames notifies at once (net.dev-notf-coal-reset judges it): 3 interrupts for 3 requests",
        [coal(TX_SET, 4, 1000, OK), WAIT, {"op": "reset"}, {"op": "init"}, tx(arp), WAIT, tx(arp), WAIT],
        completed=3, interrupts=3))
    write("net/notf-coal-zero.json", scenario(
        "net-notf-coal-zero", "NOTF_COAL_RX_SET max_packets 8 with max_usecs 0: every packet still notifies "
        "(either parameter 0); then RX_SET 2 / 1000: two frames share one notification. 4 interrupts: the two "
        "commands', the first frame's, the pair's",
        [coal(RX_SET, 8, 0, OK), WAIT, rx_buf(f1), inp(f1), WAIT, coal(RX_SET, 2, 1000, OK), WAIT,
         rx_buf(f1), rx_buf(f2), inp(f1), inp(f2), WAIT], completed=5, interrupts=4))
    dv = [{"name": "flags", "offset": 0, "width": 1, "value": 2}]
    write("net/offloads-set.json", scenario(
        "net-offloads-set", "a device that marks checked frames DATA_VALID (rx_data_valid) does so while "
        "GUEST_CSUM is on (GUEST_TSO4 not negotiated, so a driver that would enable it shows); GUEST_OFFLOADS_SET with no offload switches it off, and the next frame has flags 0; "
        "switched on again, DATA_VALID is back (policy-dependent: a frame given before the device took its buffer waits "
        "for it uncounted, so a wait can end before it is delivered, and under another schedule the next "
        "GUEST_OFFLOADS_SET may come first)",
        [dict(rx_buf(f1), expect_reply=dv), inp(f1), WAIT, offloads([], OK), WAIT, rx_buf(f1), inp(f1), WAIT,
         offloads([GUEST_CSUM_BIT], OK), WAIT, dict(rx_buf(f1), expect_reply=dv), inp(f1), WAIT],
        device_config={"rx_data_valid": True}, completed=5, accept_features=without("GUEST_TSO4", "GUEST_ECN")))

    write("net/feature-requirements.json", scenario(
        "net-feature-requirements", "the driver would accept GUEST_TSO4 and HOST_TSO4 but not GUEST_CSUM or "
        "CSUM: it drops them (Feature bit requirements), and the device accepts FEATURES_OK",
        [tx(arp), WAIT, out(arp)],
        accept_features=without("GUEST_CSUM", "CSUM", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO", "HOST_TSO6",
                                "HOST_ECN", "HOST_UFO")))


def edges():
    arp = eth(BCAST, MAC, 0x0806, bytes(46))
    part = udp_frame(partial=True)
    write("net-edges/notf-coal-without-feature.json", scenario(
        "net-notf-coal-no-feature", "NOTF_COAL_TX_SET without NOTF_COAL negotiated: refused with VIRTIO_NET_ERR; "
        "frames still notify one by one",
        [coal(TX_SET, 4, 1000, ERR), WAIT, tx(arp), WAIT], ["net.drv-notf-coal-feature"],
        accept_features=without("NOTF_COAL"), completed=2))
    write("net-edges/offloads-unnegotiated.json", scenario(
        "net-offloads-unnegotiated", "GUEST_OFFLOADS_SET enabling GUEST_TSO4 although it was not negotiated: "
        "refused with VIRTIO_NET_ERR; a command for GUEST_CSUM alone is then OK, and 8 bytes of data exactly "
        "are required (9: refused)",
        [offloads([GUEST_CSUM_BIT, GUEST_TSO4_BIT], ERR), offloads([GUEST_CSUM_BIT], OK),
         ctrl(OFFLOADS, 0, bytes(9), ERR), WAIT], ["net.drv-offloads-negotiated"],
        accept_features=without("GUEST_TSO4", "GUEST_ECN"), completed=3))
    write("net-edges/tx-short-header.json", scenario(
        "net-tx-short-header", "an 8-byte transmit buffer (no whole header): dropped, no frame, no reset; the next "
        "frame goes out",
        [{"op": "req.raw", "queue": 1, "data": "0000000000000000"}, tx(arp), WAIT, out(arp)],
        ["net.drv-tx-header"]))
    write("net-edges/tx-num-buffers.json", scenario(
        "net-tx-num-buffers", "num_buffers 1 in a transmit header: the driver's mistake, which the device ignores",
        [tx(arp, num_buffers=1), WAIT, out(arp)], ["net.drv-tx-num-buffers"]))
    write("net-edges/tx-gso-without-feature.json", scenario(
        "net-tx-gso-no-feature", "gso_type TCPV4 without HOST_TSO4: dropped; only the next (plain) frame goes out",
        [tx(part, flags=1, gso=1, gso_size=1448, csum_start=34, csum_offset=6), tx(arp), WAIT, out(arp)],
        ["net.drv-tx-gso"], accept_features=without("HOST_TSO4", "HOST_TSO6", "HOST_ECN")))
    write("net-edges/tx-gso-without-needs-csum.json", scenario(
        "net-tx-gso-no-csum", "gso_type TCPV4 without NEEDS_CSUM: dropped; the next frame goes out",
        [tx(part, gso=1, gso_size=1448), tx(arp), WAIT, out(arp)], ["net.drv-tx-gso"]))
    write("net-edges/tx-csum-offset-out-of-range.json", scenario(
        "net-tx-csum-range", "NEEDS_CSUM with csum_start + csum_offset past the frame, then at its very end: both "
        "dropped (never a write outside the frame); the next frame goes out",
        [tx(part, flags=1, csum_start=34, csum_offset=0xfff0), tx(part, flags=1, csum_start=len(part) - 1,
                                                                      csum_offset=0),
         tx(arp), WAIT, out(arp)], ["net.drv-tx-csum-range"]))
    write("net-edges/tx-flags-without-csum.json", scenario(
        "net-tx-flags-no-csum", "NEEDS_CSUM without CSUM negotiated: dropped; the next frame goes out",
        [tx(part, flags=1, csum_start=34, csum_offset=6), tx(arp), WAIT, out(arp)], ["net.drv-tx-flags"],
        accept_features=without("CSUM", "HOST_TSO4", "HOST_TSO6", "HOST_ECN", "HOST_UFO")))
    write("net-edges/tx-data-valid.json", scenario(
        "net-tx-data-valid", "DATA_VALID in a transmit header: the driver's mistake, ignored by the device",
        [tx(arp, flags=2), WAIT, out(arp)], ["net.drv-tx-flags"]))
    write("net-edges/ctrl-rx-without-feature.json", scenario(
        "net-ctrl-rx-no-feature", "PROMISC without CTRL_RX negotiated: refused with VIRTIO_NET_ERR",
        [ctrl(RX, 0, b"\x01", ERR), WAIT], ["net.drv-ctrl-rx-class"], accept_features=without("CTRL_RX")))
    write("net-edges/ctrl-rx-extra.json", scenario(
        "net-ctrl-rx-extra", "NOBCAST without CTRL_RX_EXTRA (not offered): refused with VIRTIO_NET_ERR",
        [ctrl(RX, 5, b"\x01", ERR), WAIT], ["net.drv-ctrl-rx-class"]))
    write("net-edges/ctrl-mac-table-bad-count.json", scenario(
        "net-ctrl-mac-table-count", "MAC_TABLE_SET whose first count (2) names more addresses than it carries (1), "
        "and one with trailing bytes: refused with VIRTIO_NET_ERR",
        [ctrl(MACC, 0, struct.pack("<I", 2) + PEER + struct.pack("<I", 0), ERR),
         ctrl(MACC, 0, struct.pack("<I", 0) + struct.pack("<I", 0) + b"\x00", ERR), WAIT],
        ["net.drv-ctrl-mac-class"]))
    write("net-edges/ctrl-mac-without-ctrl-rx.json", scenario(
        "net-ctrl-mac-no-feature", "MAC_TABLE_SET without CTRL_RX negotiated: refused",
        [ctrl(MACC, 0, struct.pack("<II", 0, 0), ERR), WAIT], ["net.drv-ctrl-mac-class"],
        accept_features=without("CTRL_RX")))
    mq_top = {"num_queues": 5}
    write("net-edges/mq-pairs-zero.json", scenario(
        "net-mq-pairs-zero", "VQ_PAIRS_SET 0, then 3 with max_virtqueue_pairs 2: both refused; one pair stays "
        "in use (a frame for port 1 still lands on receiveq1)",
        [ctrl(MQ, 0, struct.pack("<H", 0), ERR, queue=4), ctrl(MQ, 0, struct.pack("<H", 3), ERR, queue=4), WAIT,
         rx_buf(arp, queue=0), inp(arp, port=1), WAIT], ["net.drv-mq-pairs-range"], completed=3, **mq_top))
    write("net-edges/rx-mrg-buffer-too-small.json", scenario(
        "net-rx-mrg-small", "MRG_RXBUF and an 8-byte receive buffer (less than a header): given back unused; the "
        "frame lands in the next buffer",
        [{"op": "req.raw", "queue": 0, "len": 8, "expect_used_len": 0}, rx_buf(arp), inp(arp), WAIT],
        ["net.drv-rx-buffer-size"], completed=2))


def mutants():
    arp = eth(BCAST, MAC, 0x0806, bytes(46))
    part = udp_frame(partial=True)
    gpart = udp_frame(partial=True, payload=bytes(i % 253 for i in range(1100)))

    def m(name, desc, steps, check, **top):
        doc = {"name": "mutant-" + name, "description": desc, "device": "net", "mutants": [name]}
        doc.update(top)
        doc["steps"] = steps
        doc["expect"] = {"violations": [check] if isinstance(check, str) else check}
        write("mutants/%s.json" % name, doc)

    rx = [{"op": "req.raw", "queue": 0, "len": 1526}, inp(arp), WAIT]
    mq = {"num_queues": 5}
    m("dev.net-max-pairs-zero", "max_virtqueue_pairs reads 0 with MQ offered", [WAIT], "net.dev-config-max-pairs", **mq)
    m("dev.net-mtu-64", "mtu reads 64 with MTU offered", [WAIT], "net.dev-config-mtu")
    m("dev.net-duplex-2", "duplex reads 2 with SPEED_DUPLEX negotiated", [WAIT], "net.dev-config-speed-duplex")
    m("dev.net-rx-num-buffers-zero", "receive header with num_buffers 0", rx, "net.dev-rx-num-buffers")
    m("dev.net-rx-data-valid", "receive header with DATA_VALID although GUEST_CSUM is not negotiated", rx,
      "net.dev-rx-flags", accept_features=without("GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO"))
    m("dev.net-rx-gso-tcpv4", "receive header with gso_type TCPV4 although GUEST_TSO4 is not negotiated", rx,
      "net.dev-rx-gso", accept_features=without("GUEST_TSO4", "GUEST_ECN"))
    m("dev.net-rx-truncate", "a 62-byte IPv4/UDP frame for a 60-byte buffer: the mutant cuts it to 48 bytes "
      "instead of dropping it",
      [{"op": "req.raw", "queue": 0, "len": 60}, inp(udp_frame()), WAIT], "net.dev-rx-header",
      accept_features=without("MRG_RXBUF", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO"))
    m("dev.net-rx-any-pair", "no VQ_PAIRS_SET: a flow on port 1 must still land on receiveq1; the mutant puts it on "
      "receiveq2",
      [{"op": "req.raw", "queue": 0, "len": 1526}, {"op": "req.raw", "queue": 2, "len": 1526}, inp(arp, port=1),
       WAIT], "net.dev-mq-rx-queue", **mq)
    m("dev.net-ctrl-ack-2", "control ack 2", [ctrl(RX, 0, b"\x01"), WAIT], "net.dev-ctrl-ack")
    m("dev.net-mac-addr-late", "MAC_ADDR_SET acknowledged, config mac unchanged",
      [ctrl(MACC, 1, bytes.fromhex("02aabbccddee")), WAIT], "net.dev-mac-addr-set")
    m("dev.net-announce-sticky", "ANNOUNCE_ACK acknowledged, ANNOUNCE still set", [ctrl(ANNOUNCE, 0), WAIT],
      "net.dev-announce-clear", device_config={"announce": True})
    m("dev.net-tx-csum-always", "the device completes a checksum at csum_start + csum_offset without NEEDS_CSUM",
      [tx(part, csum_start=34, csum_offset=6), WAIT], "net.dev-tx-csum-unused")
    m("dev.net-tx-drop-over-1000", "a 1514-byte frame (mtu 1500) never goes on the wire",
      [tx(eth(BCAST, MAC, 0x88B5, bytes(1500))), WAIT], "net.dev-tx-forward")
    m("drv.net-feature-deps", "the driver keeps GUEST_TSO4 without GUEST_CSUM; the device refuses FEATURES_OK",
      [], "net.drv-feature-deps", accept_features=without("GUEST_CSUM", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO"))
    doc = json.loads((ROOT / "mutants" / "drv.net-feature-deps.json").read_text())
    doc["expect"]["status_has"] = ["FAILED"]
    doc["expect"]["status_lacks"] = ["FEATURES_OK", "DRIVER_OK"]
    write("mutants/drv.net-feature-deps.json", doc)
    m("drv.net-tx-num-buffers", "transmit header with num_buffers 1", [tx(arp), WAIT], "net.drv-tx-num-buffers")
    m("drv.net-tx-short-header", "transmit buffer cut to 10 bytes", [tx(arp), WAIT], "net.drv-tx-header")
    m("drv.net-tx-data-valid", "DATA_VALID in a transmit header", [tx(arp), WAIT], "net.drv-tx-flags")
    m("drv.net-tx-gso-tcpv4", "gso_type TCPV4 without HOST_TSO4", [tx(arp), WAIT], "net.drv-tx-gso",
      accept_features=without("HOST_TSO4", "HOST_ECN"))
    m("drv.net-tx-csum-offset", "csum_offset 0xffff with NEEDS_CSUM",
      [tx(part, flags=1, csum_start=34, csum_offset=6), WAIT], "net.drv-tx-csum-range")
    m("drv.net-rx-buffer-8", "8-byte receive buffers with MRG_RXBUF",
      [{"op": "req.raw", "queue": 0, "len": 1526}, WAIT], "net.drv-rx-buffer-size")
    m("drv.net-ctrl-alluni", "PROMISC sent as ALLUNI without CTRL_RX_EXTRA", [ctrl(RX, 0, b"\x01"), WAIT],
      "net.drv-ctrl-rx-class")
    m("drv.net-mac-table-count", "MAC_TABLE_SET counting one address more than it carries",
      [ctrl(MACC, 0, struct.pack("<I", 1) + PEER + struct.pack("<I", 0)), WAIT], "net.drv-ctrl-mac-class")
    m("drv.net-pairs-over-max", "VQ_PAIRS_SET max_virtqueue_pairs + 1",
      [ctrl(MQ, 0, struct.pack("<H", 2), queue=4), WAIT], "net.drv-mq-pairs-range", **mq)
    big = udp_frame(dst=MAC, payload=bytes(range(150)))
    m("dev.net-rx-split-publish", "a 192-byte frame over three buffers (64, 64, 128) with device_batch 1: the "
      "mutant publishes the first buffer before the other two (policy-dependent: under another schedule the "
      "device may take the buffers in separate turns, leaving the mutant nothing to split)",
      [{"op": "req.raw", "queue": 0, "len": 64}, {"op": "req.raw", "queue": 0, "len": 64},
       {"op": "req.raw", "queue": 0, "len": 128}, inp(big), WAIT], "net.dev-rx-buffers-together",
      policy="round-robin")
    m("dev.net-rx-num-buffers-plus-one", "a 192-byte IPv4 frame over three buffers (64, 64, 128): the mutant "
      "writes num_buffers 4", [{"op": "req.raw", "queue": 0, "len": 64}, {"op": "req.raw", "queue": 0, "len": 64},
                               {"op": "req.raw", "queue": 0, "len": 128}, inp(big), WAIT],
      "net.dev-rx-num-buffers-count")
    m("drv.net-tx-gso-as-none", "mtu 1000 and a 1142-byte GSO frame: the mutant driver sends it with gso_type NONE",
      [tx(gpart, flags=1, gso=1, hdr_len=42, gso_size=960, csum_start=34, csum_offset=6), WAIT], "net.drv-tx-mtu",
      device_config={"mtu": 1000})
    m("drv.net-announce-unacked", "the device asks for an announcement; the mutant driver reads ANNOUNCE and sends "
      "its ANNOUNCE_ACK as class 0xff", [ctrl(ANNOUNCE, 0), WAIT], "net.drv-announce-ack",
      device_config={"announce": True})
    m("drv.net-notf-coal-unnegotiated", "the driver leaves NOTF_COAL out and sends NOTF_COAL_TX_SET anyway",
      [coal(TX_SET, 4, 1000), WAIT], "net.drv-notf-coal-feature")
    m("dev.net-notf-coal-sticky", "NOTF_COAL_TX_SET max_packets 4, a device reset, a frame: the mutant still "
      "coalesces with the old parameters and holds the frame's notification",
      [coal(TX_SET, 4, 1000), WAIT, {"op": "reset"}, {"op": "init"}, tx(arp), WAIT], "net.dev-notf-coal-reset")
    m("drv.net-offloads-tso4", "GUEST_OFFLOADS_SET for GUEST_CSUM alone; the mutant driver adds GUEST_TSO4, not "
      "negotiated", [offloads([GUEST_CSUM_BIT]), WAIT], "net.drv-offloads-negotiated",
      accept_features=without("GUEST_TSO4", "GUEST_ECN"))
    m("dev.net-offloads-ignored", "GUEST_OFFLOADS_SET switches GUEST_CSUM off; the mutant acknowledges it and "
      "still marks the next frame DATA_VALID",
      [offloads([], OK), WAIT, {"op": "req.raw", "queue": 0, "len": 1526}, inp(arp), WAIT],
      "net.dev-rx-offloads-state", device_config={"rx_data_valid": True})
    tag6 = MAC + PEER + struct.pack("!HH", 0x8100, 6) + struct.pack("!H", 0x0800) + bytes(46)
    m("dev.net-vlan-unfiltered", "CTRL_VLAN negotiated, the VLAN table empty: a frame tagged VLAN 6, then an "
      "untagged one; the mutant ignores the table and receives the tagged frame in the one buffer (the correct "
      "device drops it and receives the untagged frame there)",
      [{"op": "req.raw", "queue": 0, "len": 1526}, inp(tag6), inp(eth(MAC, PEER, 0x0800, bytes(46))), WAIT],
      "net.dev-vlan-filter")


def main():
    global ROOT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT, help="scenarios root to write into (default: the repository's)")
    ROOT = ap.parse_args().out
    well_formed()
    edges()
    mutants()


if __name__ == "__main__":
    main()
