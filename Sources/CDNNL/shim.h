/* oneDNN 2.6.3 C API (Debian libdnnl-dev). Only CloakTensor/DNNL.swift uses it. */
#include <oneapi/dnnl/dnnl.h>
