/* Unit parsing: every suffix family, and the refusals. */
#include "testutil.h"

static double q(const char *s, sp_unit u)
{
    double v = -1;
    sp_error e = {0};
    assert_int_equal(sp_parse_quantity(s, u, "x", &v, &e), SP_OK);
    return v;
}

static void test_plain(void **st)
{
    (void)st;
    assert_near(q("70B", SP_UNIT_NONE), 70e9, 1);
    assert_near(q("3.5T", SP_UNIT_NONE), 3.5e12, 1);
    assert_near(q("4Mi", SP_UNIT_NONE), 4194304, 0);
    assert_near(q("1e25", SP_UNIT_FLOP), 1e25, 1e10);
    assert_near(q("2 PF-days", SP_UNIT_FLOP), 2 * 8.64e19, 1e6);
    assert_near(q("2.5e3 PF-days", SP_UNIT_FLOP), 2.5e3 * 8.64e19, 1e9);
}

static void test_units(void **st)
{
    (void)st;
    assert_near(q("80GiB", SP_UNIT_BYTES), 80.0 * 1073741824.0, 0);
    assert_near(q("400Gb/s", SP_UNIT_BW), 50e9, 1);
    assert_near(q("900GB/s", SP_UNIT_BW), 900e9, 1);
    assert_near(q("90d", SP_UNIT_TIME), 90 * 86400.0, 0);
    assert_near(q("3mo", SP_UNIT_TIME), 3 * 2629800.0, 0);
    assert_near(q("4.5us", SP_UNIT_TIME), 4.5e-6, 1e-15);
}

static void test_refusals(void **st)
{
    (void)st;
    double v;
    sp_error e = {0};
    assert_int_equal(sp_parse_quantity("nan", SP_UNIT_NONE, "x", &v, &e), SP_EINVAL);
    assert_int_equal(sp_parse_quantity("inf", SP_UNIT_NONE, "x", &v, &e), SP_EINVAL);
    assert_int_equal(sp_parse_quantity("", SP_UNIT_NONE, "x", &v, &e), SP_EINVAL);
    assert_int_equal(sp_parse_quantity("12parsecs", SP_UNIT_TIME, "--duration", &v, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "--duration"));
    assert_int_equal(sp_parse_quantity("1e999", SP_UNIT_NONE, "x", &v, &e), SP_EINVAL);
    assert_int_equal(sp_parse_quantity("0x10", SP_UNIT_NONE, "x", &v, &e), SP_EINVAL);
    /* found by fuzzing: overflow through the case-insensitive suffix match */
    assert_int_equal(sp_parse_quantity("1e297Tb/S", SP_UNIT_BW, "x", &v, &e), SP_EINVAL);
}

/* Messages stay on one line whatever user text they quote, and a message may wrap the previous one. */
static void test_one_line_messages(void **st)
{
    (void)st;
    sp_error e = {0};
    assert_int_equal(sp_parse_quantity("12\nparsecs", SP_UNIT_TIME, "--duration", &(double){0}, &e), SP_EINVAL);
    assert_null(strchr(e.msg, '\n'));
    assert_non_null(strstr(e.msg, "12\\nparsecs"));
    sp_fail(&e, SP_EINVAL, "a\tb\x01" "c");
    assert_string_equal(e.msg, "a\\tb\\x01c");
    sp_fail(&e, SP_EINVAL, "outer: %s", e.msg);
    assert_string_equal(e.msg, "outer: a\\tb\\x01c");
    char small[6];
    sp_one_line(small, sizeof small, "ab\ncd");
    assert_string_equal(small, "ab\\nc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_one_line_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
