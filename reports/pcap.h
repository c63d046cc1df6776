/* reports/pcap.h — network traffic as a pcap file (libpcap's classic format).
 *
 * Owns: the byte layout of a pcap file: the global header (microsecond
 * timestamps, link type Ethernet) and one record per frame. The caller says
 * what the frames are and when they happened (virtual time, so the same run
 * writes the same bytes); this module only formats them.
 * Must never: take a timestamp from the wall clock, or write a frame longer
 * than the snapshot length without saying so in the record (caplen < len).
 */
#ifndef VSIM_PCAP_H
#define VSIM_PCAP_H

#include <stdint.h>
#include <stdio.h>

#define VSIM_PCAP_SNAPLEN 65535u

/* Write the global header; 0 or -1 (an I/O error). */
int vsim_pcap_begin(FILE *f);
/* One frame at virtual time `usec` (microseconds); 0 or -1. */
int vsim_pcap_frame(FILE *f, uint64_t usec, const uint8_t *frame, uint32_t len);

#endif
