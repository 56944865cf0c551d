/* The `presets` command: the model, system, accelerator and scaling-law presets in the data directory, as lists of
 * names (JSON) or one comma-separated line per kind (text). */
#include "call.h"

#include <string.h>

const char *const sp_preset_kinds[SP_PRESET_KINDS] = {"models", "systems", "accelerators", "laws", "software"};

sp_status sp_presets_run(const char *data_dir, sp_request *rq, sp_presets_report *r, sp_error *err)
{
    (void)rq;
    (void)err;
    for (int i = 0; i < SP_PRESET_KINDS; i++)
        sp_list_presets(data_dir, sp_preset_kinds[i], r->list[i], sizeof r->list[i]);
    return SP_OK;
}

json_t *sp_presets_json(const sp_presets_report *r)
{
    json_t *o = json_object();
    for (int i = 0; i < SP_PRESET_KINDS; i++) {
        json_t *a = json_array();
        if (r->list[i][0] == '(') { /* "(no presets found ...)" */
            json_object_set_new(o, sp_preset_kinds[i], a);
            continue;
        }
        char buf[sizeof r->list[i]];
        snprintf(buf, sizeof buf, "%s", r->list[i]);
        for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            json_array_append_new(a, sp_json_str(t));
        json_object_set_new(o, sp_preset_kinds[i], a);
    }
    return o;
}

SP_CALL_DEFINE(presets, sp_presets_report, sp_presets_run, sp_presets_json, sp_call_no_release)
