/* SPDX-License-Identifier: MIT */
#ifndef GENVM_ACPI_LAYOUT_H
#define GENVM_ACPI_LAYOUT_H

#include "vmgenid/acpi_tables.h"
#include "vmgenid/fw_cfg.h"

#include "layout.h"
#include "pm.h"
#include "uart.h"
#include "vm.h"

/*
 * The machine as genvm's ACPI tables describe it: where its interrupt
 * controllers, PM block, UART and fw_cfg are.  Inline and free of struct
 * machine so that the fuzz targets build exactly genvm's tables without
 * linking the VMM; acpi_setup() adds what varies (VMClock).
 */
static inline struct vmgenid_acpi_machine genvm_acpi_machine(unsigned int nr_cpus)
{
	return (struct vmgenid_acpi_machine){
		.nr_cpus = nr_cpus,
		.lapic_addr = VM_LAPIC_ADDR,
		.ioapic_addr = VM_IOAPIC_ADDR,
		.ioapic_id = 0, /* the in-kernel IOAPIC's id after reset */
		.pm1a_evt_port = PM1A_EVT_PORT,
		.pm1a_cnt_port = PM1A_CNT_PORT,
		.pm_tmr_port = PM_TMR_PORT,
		.gpe0_port = GPE0_PORT,
		.gpe0_len = GPE0_LEN,
		.sci_irq = PM_SCI_IRQ,
		.reset_port = PM_RESET_PORT,
		.reset_value = PM_RESET_VALUE,
		.slp_typ_s5 = PM_SLP_TYP_S5,
		.uart_port = UART_COM1_BASE,
		.uart_irq = UART_COM1_IRQ,
		.fw_cfg_port = VMGENID_FW_CFG_IO_BASE,
	};
}

#endif
