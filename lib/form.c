/* form.c: data forms (XEP-0004): read the fields of a form, build a submitted one. Rooms are
 * configured (XEP-0045 §10) and described (disco#info extensions, XEP-0128) with them. */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

void xu_form_free(struct xu_form *f)
{
	size_t i, k;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->fields[i].var);
		free(f->fields[i].type);
		free(f->fields[i].label);
		for (k = 0; k < f->fields[i].nvalues; k++)
			free(f->fields[i].values[k]);
		free(f->fields[i].values);
	}
	free(f->fields);
	free(f);
}

static char *form_dup(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

static enum xu_err form_field(const struct xu_stanza *el, struct xu_form_field *f)
{
	const struct xu_stanza *v;
	size_t cap = 0;
	bool oom = false;

	memset(f, 0, sizeof(*f));
	f->var = form_dup(xu_stanza_attr(el, "var"), &oom);
	f->type = form_dup(xu_stanza_attr(el, "type"), &oom);
	f->label = form_dup(xu_stanza_attr(el, "label"), &oom);
	for (v = xu_stanza_first(el); v && !oom; v = xu_stanza_next(v)) {
		if (strcmp(xu_stanza_name(v), "value") != 0)
			continue;
		if (xu_array_room((void **)&f->values, &cap, f->nvalues, sizeof(char *), 2)) {
			oom = true;
			break;
		}
		f->values[f->nvalues] = form_dup(xu_stanza_text(v), &oom);
		if (!oom)
			f->nvalues++;
	}
	return oom ? XU_ERR_NOMEM : XU_OK;
}

enum xu_err xu_form_parse(const struct xu_stanza *x, struct xu_form **out)
{
	const struct xu_stanza *el;
	struct xu_form *f;
	size_t cap = 0;
	enum xu_err err = XU_OK;

	*out = NULL;
	if (!x || strcmp(xu_stanza_name(x), "x") != 0 || strcmp(xu_stanza_ns(x), XU_NS_DATA) != 0)
		return XU_ERR_DATA;
	f = calloc(1, sizeof(*f));
	if (!f)
		return XU_ERR_NOMEM;
	for (el = xu_stanza_first(x); el && !err; el = xu_stanza_next(el)) {
		if (strcmp(xu_stanza_name(el), "field") != 0)
			continue;
		if (xu_array_room((void **)&f->fields, &cap, f->n, sizeof(*f->fields), 16)) {
			err = XU_ERR_NOMEM;
			break;
		}
		err = form_field(el, &f->fields[f->n]);
		f->n++;
	}
	if (err) {
		xu_form_free(f);
		return err;
	}
	*out = f;
	return XU_OK;
}

const struct xu_form_field *xu_form_get(const struct xu_form *f, const char *var)
{
	size_t i;

	for (i = 0; f && i < f->n; i++)
		if (f->fields[i].var && strcmp(f->fields[i].var, var) == 0)
			return &f->fields[i];
	return NULL;
}

enum xu_err xu_form_submit_new(const char *form_type, const char *const *vars,
                               const char *const *values, size_t n, struct xu_stanza **out)
{
	struct xu_stanza *x = xu_stanza_new("x", XU_NS_DATA);
	size_t i;

	*out = NULL;
	if (!x || xu_stanza_set_attr(x, "type", "submit"))
		goto fail;
	for (i = 0; i <= n; i++) {
		const char *var = i == 0 ? "FORM_TYPE" : vars[i - 1];
		const char *val = i == 0 ? form_type : values[i - 1];
		struct xu_stanza *f, *v;

		if (i == 0 && !form_type)
			continue;
		if (!xu_utf8_xml_ok(var, strlen(var)) || !xu_utf8_xml_ok(val, strlen(val))) {
			xu_stanza_free(x);
			return XU_ERR_DATA;
		}
		f = xu_stanza_add_new(x, "field", NULL);
		v = f ? xu_stanza_add_new(f, "value", NULL) : NULL;
		if (!v || xu_stanza_set_attr(f, "var", var) ||
		    xu_stanza_add_text(v, val, strlen(val)))
			goto fail;
	}
	*out = x;
	return XU_OK;
fail:
	xu_stanza_free(x);
	return XU_ERR_NOMEM;
}
