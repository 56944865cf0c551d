/* Energy, CO2e and cost (issue 6) against published figures. */
#include "testutil.h"

/* GPT-3: 10,000 V100 for 14.8 days (3.552M accelerator-hours), measured 24.6 TFLOP/s per chip (MFU 0.197),
 * PUE 1.1: Patterson et al. 2021 report 1,287 MWh. Issue 6 target: within 20 %. */
static void test_gpt3_energy(void **st)
{
    (void)st;
    sp_system s = load_system("dgx2-v100");
    sp_energy_opts o;
    sp_energy_defaults(&o);
    o.pue = 1.1;
    o.grid_kg_per_kwh = 0.429;
    sp_energy_result r;
    sp_error e = {0};
    assert_int_equal(sp_energy_estimate(&s, 10000, 14.8 * 24, 24.6 / 125.0, &o, &r, &e), SP_OK);
    print_message("GPT-3: %.0f MWh (published 1287), %.0f t (published 552)\n", r.energy_kwh / 1000, r.co2e_kg / 1000);
    assert_rel(r.energy_kwh / 1000, 1287, 0.20);
    assert_rel(r.co2e_kg / 1000, 552, 0.20);
}

/* Llama 2 (Touvron et al. 2023 Table 2): 3.31M A100-80GB hours, 539 t CO2e, computed with "peak power capacity per
 * GPU device adjusted for PUE": the 34B at 350 W, the rest at 400 W; Meta's PUE 1.1 and 0.385 kg/kWh (stated in
 * the LLaMA-1 paper, same data centres). Target: within 20 %. */
static void test_llama2_co2e(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-a100-80g");
    sp_energy_opts o;
    sp_energy_defaults(&o);
    o.model = SP_POWER_TDP;
    o.pue = 1.1;
    o.grid_kg_per_kwh = 0.385;
    double hours[] = {184320, 368640, 1038336, 1720320}, tdp[] = {400, 400, 350, 400}, total = 0;
    for (int i = 0; i < 4; i++) {
        s.acc.tdp_w = tdp[i];
        sp_energy_result r;
        sp_error e = {0};
        assert_int_equal(sp_energy_estimate(&s, 1, hours[i], 0.4, &o, &r, &e), SP_OK);
        total += r.co2e_kg / 1000;
    }
    print_message("Llama 2 total: %.1f t (published 539)\n", total);
    assert_rel(total, 539, 0.20);
}

static void test_power_model(void **st)
{
    (void)st;
    /* activity = 0.3 + 0.7 min(1, u/0.6): floor, midpoint, saturation, and never above 1 */
    assert_near(sp_power_activity(0), 0.3, 1e-12);
    assert_near(sp_power_activity(0.3), 0.65, 1e-12);
    assert_near(sp_power_activity(0.6), 1.0, 1e-12);
    assert_near(sp_power_activity(0.9), 1.0, 1e-12);
    assert_near(sp_power_activity(-1), 0.3, 1e-12);
    /* the H100 anchor: an 8x H100 node training at u = 0.45 draws 60-85 % of its 10.2 kW rating (measured 76 %
     * average, Newkirk et al. 2025; 82 % maximum, Latif et al. 2024) */
    {
        sp_system h = load_system("dgx-h100");
        sp_energy_opts ho;
        sp_energy_defaults(&ho);
        ho.pue = 1.0;
        sp_energy_result hr;
        sp_error he = {0};
        assert_int_equal(sp_energy_estimate(&h, 8, 1, 0.45, &ho, &hr, &he), SP_OK);
        double frac = hr.energy_kwh / 10.2;
        print_message("8x H100 at MFU 0.45: %.2f kW = %.0f %% of the 10.2 kW rating\n", hr.energy_kwh, 100 * frac);
        assert_true(frac > 0.60 && frac < 0.85);
    }
    sp_system s = load_system("dgx-h100");
    sp_energy_opts o;
    sp_energy_defaults(&o);
    sp_energy_result lo, hi;
    sp_error e = {0};
    assert_int_equal(sp_energy_estimate(&s, 8, 1, 0.1, &o, &lo, &e), SP_OK);
    assert_int_equal(sp_energy_estimate(&s, 8, 1, 0.5, &o, &hi, &e), SP_OK);
    assert_true(hi.energy_kwh > lo.energy_kwh);
    assert_true(hi.accel_w <= s.acc.tdp_w);
    /* cloud cost is accelerator-hours x price */
    assert_near(hi.cloud_usd, 8 * s.usd_per_accel_hour, 1e-9);
    /* bad input */
    o.pue = 0.5;
    assert_int_equal(sp_energy_estimate(&s, 8, 1, 0.5, &o, &hi, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "PUE"));
    sp_energy_defaults(&o);
    o.usd_per_accel_hour = -3;
    o.grid_kg_per_kwh = 0.4;
    sp_energy_opts o2 = o;
    o2.usd_per_accel_hour = -1; /* -1 means "the system's" */
    assert_int_equal(sp_energy_estimate(&s, 8, 1, 0.5, &o2, &hi, &e), SP_OK);
    o2.energy_usd_per_kwh = -1;
    assert_int_equal(sp_energy_estimate(&s, 8, 1, 0.5, &o2, &hi, &e), SP_EINVAL);
}

static void test_regions(void **st)
{
    (void)st;
    double kg;
    char src[256];
    sp_error e = {0};
    assert_int_equal(sp_region_intensity(SP_DATA_DIR, "fr", &kg, src, sizeof src, &e), SP_OK);
    assert_true(kg < 0.1 && strlen(src) > 10);
    assert_int_equal(sp_region_intensity(SP_DATA_DIR, "mars", &kg, src, sizeof src, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "available"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt3_energy), cmocka_unit_test(test_llama2_co2e),
        cmocka_unit_test(test_power_model), cmocka_unit_test(test_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
