// SPDX-License-Identifier: MIT
/*
 * Embedding the VM Generation ID device in a C++ VMM (docs/embedding.md).
 *
 * Unlike embed.c, this VMM has ACPI tables of its own: the device appends
 * its SSDT to the VMM's "etc/acpi/tables" blob and its commands to the
 * VMM's table-loader script, and the VMM points its XSDT at the offset it
 * gets back.  The objects are owned by RAII wrappers; the GPE callback is a
 * captureless lambda (callbacks run inside C code: they must not throw).
 *
 * Build: c++ embed.cpp $(pkg-config --cflags --libs libvmgenid)
 */
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <vmgenid/acpi_tables.h>
#include <vmgenid/bios_loader.h>
#include <vmgenid/bytebuf.h>
#include <vmgenid/fw_cfg.h>
#include <vmgenid/guest_mem.h>
#include <vmgenid/guid.h>
#include <vmgenid/state.h>
#include <vmgenid/vmgenid.h>

#include "firmware.h"

namespace {

constexpr uint64_t ram_size = 4u << 20;

struct FwCfgFree {
	void operator()(vmgenid_fw_cfg *fw) const { vmgenid_fw_cfg_free(fw); }
};
struct DevFree {
	void operator()(vmgenid_dev *d) const { vmgenid_dev_free(d); }
};

/* A byte buffer the library appends to, freed with its owner. */
struct Blob {
	vmgenid_bytebuf b;
	Blob() { vmgenid_bytebuf_init(&b); }
	~Blob() { vmgenid_bytebuf_free(&b); }
	Blob(const Blob &) = delete;
	Blob &operator=(const Blob &) = delete;
};

struct Loader {
	vmgenid_bios_loader l;
	Loader() { vmgenid_bios_loader_init(&l); }
	~Loader() { vmgenid_bios_loader_free(&l); }
	Loader(const Loader &) = delete;
	Loader &operator=(const Loader &) = delete;
};

vmgenid_guid parse_guid(const char *text)
{
	vmgenid_guid g;
	const char *why = nullptr;

	if (vmgenid_guid_parse(text, &g, &why) < 0)
		throw std::invalid_argument(std::string(text) + ": " + why);
	return g;
}

std::string format_guid(const vmgenid_guid &g)
{
	char text[VMGENID_GUID_STR_LEN + 1];

	vmgenid_guid_format(&g, text);
	return text;
}

class Machine {
public:
	Machine(std::vector<uint8_t> initial_ram, const vmgenid_guid &guid)
		: ram_(std::move(initial_ram))
	{
		vmgenid_guest_mem_init(&mem_);
		check(vmgenid_guest_mem_add(&mem_, 0, ram_.size(), ram_.data()), "guest RAM");
		fw_cfg_.reset(vmgenid_fw_cfg_new(&mem_));
		dev_.reset(vmgenid_dev_new(&guid, &mem_, [](void *opaque) {
			static_cast<Machine *>(opaque)->gpe0_sts_ |= 1u << VMGENID_DEV_GPE_BIT;
		}, this));
		if (!fw_cfg_ || !dev_)
			throw std::bad_alloc();

		/* The VMM's own tables would go first; then the device's SSDT. */
		check(vmgenid_bios_loader_allocate(&loader_.l, VMGENID_ACPI_TABLES_FILE, 64,
						   VMGENID_BIOS_LOADER_ZONE_HIGH), "ALLOCATE");
		ssdt_offset_ = vmgenid_dev_build_acpi(dev_.get(), &tables_.b, VMGENID_ACPI_TABLES_FILE,
						      &loader_.l);
		check(ssdt_offset_ < 0 ? static_cast<int>(ssdt_offset_) : 0, "SSDT");
		/* ... and here the VMM's XSDT entry gets an ADD_POINTER to ssdt_offset_. */
		add_file(VMGENID_ACPI_TABLES_FILE, tables_.b);
		add_file(VMGENID_BIOS_LOADER_FILE, loader_.l.script);
		check(vmgenid_dev_add_fw_cfg(dev_.get(), fw_cfg_.get()), "vmgenid files");
	}

	void boot()
	{
		struct firmware fw;
		const char *why = nullptr;

		if (firmware_boot(&fw, fw_cfg_.get(), &mem_, ram_.size(), &why) < 0)
			throw std::runtime_error(std::string("firmware: ") + why);
	}

	std::vector<uint8_t> save_state() const
	{
		Blob out;

		check(vmgenid_dev_save(dev_.get(), &out.b), "save");
		if (vmgenid_bytebuf_failed(&out.b))
			throw std::bad_alloc();
		return std::vector<uint8_t>(out.b.data, out.b.data + out.b.len);
	}

	/* Returns whether the guest was notified. */
	bool load_state(const std::vector<uint8_t> &state)
	{
		vmgenid_state_reader r;
		vmgenid_state_section s;
		const char *why = nullptr;
		int ret;

		vmgenid_state_reader_init(&r, state.data(), state.size());
		while ((ret = vmgenid_state_reader_next(&r, &s, &why)) == 1) {
			if (std::strcmp(s.id, VMGENID_DEV_STATE_ID) == 0 &&
			    vmgenid_dev_load(dev_.get(), s.payload, s.length, s.version, &why) < 0)
				throw std::runtime_error(std::string("snapshot: ") + why);
		}
		if (ret < 0)
			throw std::runtime_error(std::string("snapshot: ") + why);
		ret = vmgenid_dev_post_load(dev_.get());
		check(ret, "post_load");
		return ret == 1;
	}

	std::string guest_guid() const
	{
		uint8_t le[VMGENID_GUID_SIZE];
		vmgenid_guid g;

		check(vmgenid_guest_mem_read(&mem_, vmgenid_dev_get_addr(dev_.get()), le, sizeof(le)),
		      "reading the guest's GUID");
		vmgenid_guid_from_le(le, &g);
		return format_guid(g);
	}

	uint64_t guid_addr() const { return vmgenid_dev_get_addr(dev_.get()); }
	long ssdt_offset() const { return ssdt_offset_; }
	unsigned int gpe0_sts() const { return gpe0_sts_; }
	const std::vector<uint8_t> &ram() const { return ram_; }

private:
	static void check(long ret, const char *what)
	{
		if (ret < 0)
			throw std::runtime_error(std::string(what) + ": " + std::strerror(static_cast<int>(-ret)));
	}

	void add_file(const char *name, vmgenid_bytebuf &b)
	{
		check(vmgenid_fw_cfg_add_file(fw_cfg_.get(), name, b.data, static_cast<uint32_t>(b.len),
					      false, nullptr, nullptr), name);
	}

	std::vector<uint8_t> ram_;
	vmgenid_guest_mem mem_;
	std::unique_ptr<vmgenid_fw_cfg, FwCfgFree> fw_cfg_;
	std::unique_ptr<vmgenid_dev, DevFree> dev_;
	Blob tables_;
	Loader loader_;
	long ssdt_offset_ = -1;
	unsigned int gpe0_sts_ = 0;
};

} // namespace

int main()
{
	try {
		Machine source(std::vector<uint8_t>(ram_size), parse_guid("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"));
		std::printf("c++: SSDT at offset %ld of %s\n", source.ssdt_offset(), VMGENID_ACPI_TABLES_FILE);
		source.boot();
		std::printf("c++ boot: guest reads %s at %#llx\n", source.guest_guid().c_str(),
			    static_cast<unsigned long long>(source.guid_addr()));

		std::vector<uint8_t> state = source.save_state();
		Machine clone(source.ram(), parse_guid("8a1e6a2c-5d3f-4b6e-9c1a-2b3c4d5e6f70"));
		bool notified = clone.load_state(state);
		std::printf("c++ clone: %s, guest reads %s, GPE0 status %#x\n",
			    notified ? "notified" : "not notified", clone.guest_guid().c_str(), clone.gpe0_sts());
		std::printf("c++ source: guest reads %s, GPE0 status %#x\n", source.guest_guid().c_str(),
			    source.gpe0_sts());
	} catch (const std::exception &e) {
		std::fprintf(stderr, "embed: %s\n", e.what());
		return 1;
	}
	return 0;
}
