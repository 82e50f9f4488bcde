/* SPDX-License-Identifier: MIT */
/*
 * The guest-side fw_cfg client's port I/O wired straight to the device's
 * vmgenid_fw_cfg_io(), as a VMM's exit handler would do it: what the library tests'
 * simulated guest and the fuzz targets' firmware both need.  Free of cmocka
 * so the fuzz build can link it.
 */
#ifndef VMGENID_TEST_FW_CFG_PORTS_H
#define VMGENID_TEST_FW_CFG_PORTS_H

#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"

/* Client ops whose accesses reach fw (which must outlive them). */
struct vmgenid_fw_cfg_guest_ops fw_cfg_ports_ops(struct vmgenid_fw_cfg *fw);

#endif
