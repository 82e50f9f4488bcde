// SPDX-License-Identifier: MIT
/*
 * The AML reader's front: walk the tables (aml_parse.c), pick the VM
 * generation counter device, evaluate its _HID, _CID and ADDR (aml_eval.c)
 * and find the event method that notifies it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aml_eval.h"
#include "aml_reader.h"

#define CALL_DEPTH 3 /* how far the notify search follows calls */
#define MAX_SCANS 64 /* methods the notify search walks in total */

/* --- The device ------------------------------------------------------------ */

bool aml_reader_is_vmgenid_id(const char *id)
{
	static const char *const ids[] = {
		"QEMUVGID", "VMGENCTR", "VM_Gen_Counter", "FCVMGID",
		"Hyper_V_Gen_Counter_V1", "MSFT1002",
	};
	size_t i;

	for (i = 0; id && i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (!strcasecmp(id, ids[i]))
			return true;
	}
	return false;
}

/* An _HID/_CID value as text: a string, or a compressed EISA id. */
static bool id_text(const struct aml_elem *v, char *out, size_t cap)
{
	uint32_t id;
	size_t i;

	if (v->type == V_STR) {
		snprintf(out, cap, "%s", v->s);
		for (i = 0; out[i]; i++) {
			if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7E)
				out[i] = '?';
		}
		return true;
	}
	if (v->type != V_INT)
		return false;
	/* Three 5-bit letters and four hex digits, stored big-endian. */
	id = (uint32_t)v->i;
	id = (id >> 24) | ((id >> 8) & 0xFF00) | ((id << 8) & 0xFF0000) | (id << 24);
	snprintf(out, cap, "%c%c%c%04X", (char)('@' + ((id >> 26) & 0x1F)),
		 (char)('@' + ((id >> 21) & 0x1F)), (char)('@' + ((id >> 16) & 0x1F)),
		 id & 0xFFFF);
	return true;
}

/* The value of path.seg when it is a Name, else false. */
static bool child_value(struct aml_ns *r, const char *path, const char *seg, struct aml_val *v)
{
	char child[AML_READER_PATH_MAX + 8];
	unsigned int steps = 0;
	struct aml_obj *o;

	snprintf(child, sizeof(child), "%s.%s", path, seg);
	o = aml_parse_find(r, child);
	return o && o->type == OBJ_NAME && aml_eval_name(r, o, 0, &steps, v, NULL) == 0;
}

static void device_ids(struct aml_ns *r, const char *path, struct aml_reader_device *d)
{
	struct aml_val v;
	struct aml_elem el;
	unsigned int i;

	d->hid[0] = '\0';
	d->ncid = 0;
	if (child_value(r, path, "_HID", &v)) {
		el.type = v.type;
		el.i = v.i;
		el.s = v.s;
		if (!id_text(&el, d->hid, sizeof(d->hid)))
			d->hid[0] = '\0';
	}
	if (!child_value(r, path, "_CID", &v))
		return;
	if (v.type != V_PKG) {
		el.type = v.type;
		el.i = v.i;
		el.s = v.s;
		if (id_text(&el, d->cid[0], sizeof(d->cid[0])))
			d->ncid = 1;
		return;
	}
	for (i = 0; i < v.count && d->ncid < AML_READER_CID_MAX; i++) {
		if (id_text(&v.el[i], d->cid[d->ncid], sizeof(d->cid[0])))
			d->ncid++;
	}
}

static bool device_matches(const struct aml_reader_device *d)
{
	unsigned int i;

	if (aml_reader_is_vmgenid_id(d->hid))
		return true;
	for (i = 0; i < d->ncid; i++) {
		if (aml_reader_is_vmgenid_id(d->cid[i]))
			return true;
	}
	return false;
}

static void device_addr(struct aml_ns *r, struct aml_reader_device *d)
{
	char path[AML_READER_PATH_MAX + 8];
	struct aml_reader_error *err = &d->addr_error;
	unsigned int steps = 0, i;
	struct aml_obj *o;
	struct aml_val v;
	int ret;

	snprintf(path, sizeof(path), "%s.ADDR", d->path);
	o = aml_parse_find(r, path);
	if (!o) {
		d->addr_form = AML_READER_ADDR_MISSING;
		d->addr_status = -ENOENT;
		snprintf(err->table, sizeof(err->table), "%s", d->table);
		err->offset = d->offset;
		snprintf(err->msg, sizeof(err->msg), "device %s has no ADDR object", d->path);
		return;
	}
	if (o->type == OBJ_NAME) {
		d->addr_form = AML_READER_ADDR_NAME;
		ret = aml_eval_name(r, o, 0, &steps, &v, err);
	} else if (o->type == OBJ_METHOD) {
		d->addr_form = AML_READER_ADDR_METHOD;
		ret = aml_eval_method(r, o, &v, err);
	} else {
		d->addr_form = AML_READER_ADDR_OTHER;
		snprintf(err->table, sizeof(err->table), "%s", r->tables[o->table].name);
		err->offset = o->start;
		snprintf(err->msg, sizeof(err->msg), "%s is neither a Name nor a Method", o->path);
		ret = -EINVAL;
	}
	d->addr_status = ret;
	if (ret)
		return;
	snprintf(err->table, sizeof(err->table), "%s", r->tables[o->table].name);
	err->offset = o->start;
	if (v.type != V_PKG) {
		d->addr_status = -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%s gives %s, not a package", o->path,
			 v.type == V_INT ? "an integer" : "a string");
		return;
	}
	d->addr_count = v.count;
	d->addr_integers = v.count == 2;
	for (i = 0; i < v.count; i++) {
		if (v.el[i].type != V_INT)
			d->addr_integers = false;
	}
	if (!d->addr_integers) {
		d->addr_status = -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%s gives a package of %u elements, not "
			 "two integers", o->path, v.count);
		return;
	}
	d->addr_elem[0] = v.el[0].i;
	d->addr_elem[1] = v.el[1].i;
	d->addr = v.el[0].i | (v.el[1].i << 32);
	err->msg[0] = '\0';
}

/* Pass 3: does method m (or what it calls) Notify (dev, 0x80)? */
static bool notifies(struct aml_ns *r, const struct aml_obj *m, const char *dev, unsigned int depth)
{
	struct aml_reader_report *rep = r->report;
	struct aml_scan s;
	struct aml_parser p;
	unsigned int i;

	/*
	 * A body already walked is not walked again: calls may name one method
	 * many times over, and with a large body that multiplied the work by
	 * MAX_SCANS.  (It was walked with its calls followed as far as
	 * CALL_DEPTH allowed from there.)
	 */
	if (m->type != OBJ_METHOD || m->scanned || r->scans++ >= MAX_SCANS)
		return false;
	r->objs[m - r->objs].scanned = true;
	rep->scan_bytes += m->end - m->start;
	memset(&s, 0, sizeof(s));
	s.target = dev;
	aml_parse_init(&p, r, m->table, m->start);
	p.scan = &s;
	/* Unparsable bodies are only noted: a wrong guess at a call's argument
	 * count is not the table's fault. */
	if (aml_parse_termlist(&p, m->path, m->end, 1) && rep->nskipped++ == 0)
		rep->skipped = p.error;
	if (s.found)
		return true;
	for (i = 0; depth < CALL_DEPTH && i < s.ncalls; i++) {
		if (s.calls[i] != m && notifies(r, s.calls[i], dev, depth + 1))
			return true;
	}
	return false;
}

static bool is_gpe_method(const char *path)
{
	const char *seg = path + 6;

	if (strncmp(path, "\\_GPE.", 6) || strlen(seg) != 4 || seg[0] != '_' ||
	    (seg[1] != 'E' && seg[1] != 'L'))
		return false;
	return strchr("0123456789ABCDEF", seg[2]) && strchr("0123456789ABCDEF", seg[3]);
}

static void device_notify(struct aml_ns *r, struct aml_reader_device *d)
{
	char path[AML_READER_PATH_MAX + 8];
	struct aml_reader_device ged;
	unsigned int i;
	size_t k;
	struct aml_obj *m;

	d->notify_via = AML_READER_NOTIFY_NONE;
	d->notify_method[0] = '\0';
	for (k = 0; k < r->nobjs; k++) {
		if (r->objs[k].type == OBJ_METHOD && is_gpe_method(r->objs[k].path) &&
		    notifies(r, &r->objs[k], d->path, 0)) {
			d->notify_via = AML_READER_NOTIFY_GPE;
			snprintf(d->notify_method, sizeof(d->notify_method), "%s",
				 r->objs[k].path);
			return;
		}
	}
	for (k = 0; k < r->nobjs; k++) {
		bool is_ged;

		if (r->objs[k].type != OBJ_DEVICE)
			continue;
		memset(&ged, 0, sizeof(ged));
		device_ids(r, r->objs[k].path, &ged);
		is_ged = !strcasecmp(ged.hid, "ACPI0013");
		for (i = 0; i < ged.ncid; i++)
			is_ged = is_ged || !strcasecmp(ged.cid[i], "ACPI0013");
		if (!is_ged)
			continue;
		snprintf(path, sizeof(path), "%s._EVT", r->objs[k].path);
		m = aml_parse_find(r, path);
		if (m && notifies(r, m, d->path, 0)) {
			d->notify_via = AML_READER_NOTIFY_GED;
			snprintf(d->notify_method, sizeof(d->notify_method), "%s", m->path);
			return;
		}
	}
}

int aml_reader_find_vmgenid(const struct aml_reader_table *tables, size_t ntables,
			    const char *want_path, struct aml_reader_device *dev,
			    struct aml_reader_report *report)
{
	struct aml_reader_report local;
	struct aml_reader_device cand;
	struct aml_ns r;
	const struct aml_obj *found = NULL;
	bool found_wanted = false, *ok;
	size_t i, j;
	int ret = -ENOENT;

	memset(&r, 0, sizeof(r));
	r.report = report ? report : &local;
	memset(r.report, 0, sizeof(*r.report));
	memset(dev, 0, sizeof(*dev));
	r.tables = calloc(ntables ? ntables : 1, sizeof(*r.tables));
	ok = calloc(ntables ? ntables : 1, sizeof(*ok));
	if (!r.tables || !ok) {
		free(r.tables);
		free(ok);
		return -ENOMEM;
	}
	r.ntables = ntables;
	for (i = 0; i < ntables; i++)
		ok[i] = aml_parse_table_check(&r, &tables[i], &r.tables[i]) == 0;
	/* As in ACPICA, the DSDT's revision sets the integer width for all. */
	for (i = 0; i < ntables; i++) {
		if (ok[i] && !memcmp(r.tables[i].data, "DSDT", 4)) {
			for (j = 0; j < ntables; j++)
				r.tables[j].int32 = r.tables[i].int32;
			break;
		}
	}
	for (i = 0; i < ntables; i++) {
		if (ok[i])
			aml_parse_table_walk(&r, (unsigned int)i);
	}

	for (i = 0; i < r.nobjs; i++) {
		const struct aml_obj *o = &r.objs[i];
		bool wanted;

		if (o->type != OBJ_DEVICE)
			continue;
		memset(&cand, 0, sizeof(cand));
		device_ids(&r, o->path, &cand);
		if (!device_matches(&cand))
			continue;
		wanted = want_path && !strcmp(o->path, want_path);
		if (!found || (wanted && !found_wanted)) {
			found = o;
			found_wanted = wanted;
			*dev = cand;
		}
	}
	if (found) {
		snprintf(dev->path, sizeof(dev->path), "%s", found->path);
		snprintf(dev->table, sizeof(dev->table), "%s", r.tables[found->table].name);
		dev->offset = found->start;
		device_addr(&r, dev);
		device_notify(&r, dev);
		ret = 0;
	}
	r.report->lookup_steps = r.steps;
	free(r.index);
	free(r.objs);
	free(r.tables);
	free(ok);
	return ret;
}

int aml_reader_vmgenid_addr(const struct aml_reader_table *tables, size_t ntables,
			    uint64_t *addr, struct aml_reader_error *err)
{
	struct aml_reader_report rep;
	struct aml_reader_device *dev = malloc(sizeof(*dev));
	int ret;

	memset(err, 0, sizeof(*err));
	if (!dev)
		return -ENOMEM;
	ret = aml_reader_find_vmgenid(tables, ntables, NULL, dev, &rep);
	if (ret == -ENOENT && rep.nmalformed) {
		*err = rep.malformed;
		ret = -EINVAL;
	} else if (ret == -ENOENT) {
		snprintf(err->msg, sizeof(err->msg), "no VM generation ID device in the ACPI "
			 "tables");
	} else if (ret == 0 && dev->addr_status) {
		*err = dev->addr_error;
		ret = dev->addr_status;
	} else if (ret == 0) {
		*addr = dev->addr;
	}
	free(dev);
	return ret;
}
