#ifndef NETFAULT_CPCAP_SHIM_H
#define NETFAULT_CPCAP_SHIM_H

// libpcap, for writing the capture file of the faulted connections (`--pcap`).
#include <pcap/pcap.h>

#endif
