/* Collectives across tiers (src/collective.c, docs/model.md "Collectives"): NCCL's ring striped over every NIC of a
 * node, its tree for all-reduce at scale, PAT with one rank per node, NVLS in-switch all-reduce, placement of
 * groups on 72-GPU NVLink domains (issue 23), and the SM share an overlapped collective takes from compute. Each
 * test names its rule and checks the exact closed form. */
#include "testutil.h"
#include "internal.h"
#include "step.h"

/* Rule: a ring across nodes is striped over all the node's NICs: with 8 ranks per DGX H100 node, 8 x 50 GB/s x
 * eff 0.85 = 340 GB/s, below NVLink's 450 x 0.8 = 360 GB/s, sets the bus bandwidth (not one NIC's 42.5 GB/s);
 * latency: 14 NVLink hops (6 us) and 2 network hops (10 us) of the 16, over (p-1)/p of them. */
static void test_ring_stripes_over_all_nics(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    double M = 1e9;
    double expect = 15.0 / 16 * M / 340e9 + (14 * 6e-6 + 2 * 10e-6) * 15 / 16;
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 16, 1, M), expect, 1e-12);
    assert_near(sp_collective_time(&s, SP_COLL_REDUCESCATTER, 16, 1, M), expect, 1e-12);
    /* 8x the one-NIC ring the model had before */
    assert_true(sp_collective_time(&s, SP_COLL_ALLGATHER, 16, 1, M) < 15.0 / 16 * M / 42.5e9 / 7);
}

/* Rule: one rank per node (a DP group at stride 8) has its own NIC only: 42.5 GB/s; reduce-scatter and all-gather
 * then run NCCL's PAT: log2(16) = 4 network latencies instead of the ring's 15. */
static void test_one_rank_per_node_pat(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    double M = 1e8;
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 16, 8, M), 15.0 / 16 * M / 42.5e9 + 4 * 10e-6, 1e-12);
}

/* Rule: all-reduce across nodes takes the cheaper of the ring and NCCL's tree (bandwidth 0.92 of the ring's bus
 * bandwidth, half the algorithm bandwidth; latency 2 x (7 NVLink + log2 16 network) hops). On 128 H100s (16 nodes)
 * the ring's 2 x 127/128 x (112 x 6 + 16 x 10) us = 1651 us of latency loses to the tree's 164 us up to the
 * crossover 1487 us / (2/(0.92 x 340e9) - 2 x 127/128/340e9) = 2.67 GB. */
static void test_allreduce_ring_tree_crossover(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    double bb = 340e9;
    double ring_lat = 2 * (112 * 6e-6 + 16 * 10e-6) * 127 / 128, tree_lat = 2 * (7 * 6e-6 + 4 * 10e-6);
    double per_byte = 2 / (0.92 * bb) - 2 * 127.0 / 128 / bb;
    double cross = (ring_lat - tree_lat) / per_byte;
    assert_near(cross, 2.667e9, 0.001e9);
    for (double M = 1e6; M < 1e12; M *= 10) {
        double ring = 2 * 127.0 / 128 * M / bb + ring_lat, tree = 2 * M / (0.92 * bb) + tree_lat;
        double t = sp_collective_time(&s, SP_COLL_ALLREDUCE, 128, 1, M);
        assert_near(t, M < cross ? tree : ring, 1e-12 * (1 + t));
    }
}

/* Rule: an NVSwitch 3 node reduces in the switch (NVLS): each GPU moves its buffer once, (1 + 1/8) x M at NCCL's
 * Hopper NVLS efficiency 0.85 of 450 GB/s, + 2 steps of latency: 1.65x faster than the ring's 2 x 7/8 x M at
 * 0.8 x 450 GB/s. DGX A100 (NVSwitch 2) has no NVLS: the ring. */
static void test_nvls_allreduce(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100"), a = load_system("dgx-a100-80g");
    double M = 1e9;
    assert_near(sp_collective_time(&s, SP_COLL_ALLREDUCE, 8, 1, M), 1.125 * M / (450e9 * 0.85) + 2 * 6e-6, 1e-12);
    double abw = a.tier[0].bw * a.tier[0].eff;
    assert_near(sp_collective_time(&a, SP_COLL_ALLREDUCE, 8, 1, M), 2 * 7.0 / 8 * M / abw + 14 * a.tier[0].latency_s,
                1e-12);
}

/* Rule (issue 23): a group spanning 72-GPU domains keeps the largest divisor of its size whose block fits one
 * domain: DP 64 at stride 2 (128 GPUs) has 32 members per rack (64 GPUs, NVIDIA's 16-of-18-tray segments); on
 * GB200 NVL72 its all-gather is bound by NVLink (720 GB/s), not by 32 NICs (1360 GB/s). */
static void test_placement_72(void **st)
{
    (void)st;
    assert_int_equal(sp_domain_members(72, 64, 2), 32);
    assert_int_equal(sp_domain_members(72, 128, 1), 64);
    assert_int_equal(sp_domain_members(72, 16, 1), 16);
    assert_int_equal(sp_domain_members(72, 8, 16), 4);
    assert_int_equal(sp_domain_members(8, 16, 1), 8);
    assert_int_equal(sp_domain_members(8, 4, 8), 1);
    sp_system s = load_system("gb200-nvl72");
    double M = 1e9;
    double expect = 63.0 / 64 * M / 720e9 + (62 * 8e-6 + 2 * 10e-6) * 63 / 64;
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 64, 2, M), expect, 1e-12);
    /* a 16-GPU group (tier 0 holds it whole: four per rack) stays on NVLink */
    assert_int_equal(sp_group_tier(&s, 16, 1), 0);
}

/* Rule: an overlapped collective's kernels take comm_sms of the SMs (24 of H100's 132), so the compute it overlaps
 * runs at 1 - 24/132: a ZeRO-3 phase of compute F overlapped by collectives C takes max(C, F + 24/132 x C). With
 * comm_sms = 0 the same FSDP plan is faster, by at most 24/132 of its gathers and scatters. */
static void test_sm_contention(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    assert_near(sp_comm_sm_share(&s.acc), 24.0 / 132, 1e-15);
    sp_model m;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 32, p.tp = 1, p.pp = 1, p.dp = 32, p.zero = 3, p.global_batch = 64, p.micro_batch = 1, p.seq_len = 4096;
    sp_train_result with, without;
    if (sp_train_eval(&m, &s, &p, &with, &e))
        fail_msg("%s", e.msg);
    s.acc.eff.comm_sms = 0;
    assert_int_equal(sp_train_eval(&m, &s, &p, &without, &e), SP_OK);
    sp_shape_step c;
    sp_pipe_step o;
    sp_shape_step_fill(&m, &s, &p, NULL, NULL, &c);
    sp_pipe_step_stage(&m, &p, &c, &o);
    sp_pipe_step_fill(&m, &s, &p, &c, &o);
    double comm = with.n_micro * (2 * o.zero3_gather + o.zero3_scatter);
    assert_true(with.step_time_s > without.step_time_s);
    assert_true(with.step_time_s - without.step_time_s <= 24.0 / 132 * comm * (1 + 1e-12));
}

/* Rule: a stack that reduces gradients in fp32 (plan.grad_reduce_fp32: torchtitan's FSDP2 reduce_dtype float32,
 * defaults.grad_reduce_fp32) reduce-scatters 4 B per gradient, else 2 B; the all-gather of 16-bit weights is the
 * same either way. Llama-3-8B, FSDP over 32 H100s: the scatter is exactly the collective of the dense parameters at
 * 4 B over the 32 ranks. */
static void test_grad_reduce_fp32(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    sp_model m;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK);
    sp_pipe_step o[2];
    for (int f = 0; f < 2; f++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.n_gpus = 32, p.dp = 32, p.zero = 3, p.global_batch = 64, p.micro_batch = 1, p.seq_len = 4096;
        p.grad_reduce_fp32 = f;
        assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
        sp_shape_step c;
        sp_shape_step_fill(&m, &s, &p, NULL, NULL, &c);
        sp_pipe_step_stage(&m, &p, &c, &o[f]);
        sp_pipe_step_fill(&m, &s, &p, &c, &o[f]);
    }
    double g = o[1].grad_dense;
    assert_true(g > 0);
    assert_near(o[1].zero3_scatter, sp_collective_time(&s, SP_COLL_REDUCESCATTER, 32, 1, g * 4.0), 1e-15);
    assert_near(o[0].zero3_scatter, sp_collective_time(&s, SP_COLL_REDUCESCATTER, 32, 1, g * 2.0), 1e-15);
    assert_near(o[1].zero3_gather, o[0].zero3_gather, 0);
    sp_software sw;
    assert_int_equal(sp_load_software(SP_DATA_DIR, "torchtitan", &sw, &e), SP_OK);
    assert_int_equal(sw.grad_reduce_fp32, 1);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &sw, &e), SP_OK);
    assert_int_equal(sw.grad_reduce_fp32, 0);
}

/* Rule: on a torus tier a group drives the links of the axes it spans (collective.c torus_share). tpu-v5p-pod: torus
 * 28 x 20 x 16 (ranks along the 28-axis first), 600 GB/s x eff 0.7 per chip over 6 links, 5 us per step. A TP group
 * of 4 consecutive ranks stays on the first axis: 2 of 6 links, 140 GB/s; an FSDP group of 16 at stride 4 reaches
 * rank 60, past the 28 of the first axis: two axes, 280 GB/s; 1024 consecutive ranks reach past 28 x 20 = 560: all
 * three, 420 GB/s (where the log-deep tree's 10 latencies beat the ring's 1023). A group at stride 28 skips the
 * first axis whole: one axis again. The same groups on the switched dgx-h100 tier keep its whole bandwidth. */
static void test_torus_axes(void **st)
{
    (void)st;
    sp_system s = load_system("tpu-v5p-pod");
    double M = 1e9, lat = 5e-6;
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 4, 1, M), 0.75 * M / 140e9 + 3 * lat, 1e-12);
    assert_near(sp_collective_time(&s, SP_COLL_REDUCESCATTER, 16, 4, M), 15.0 / 16 * M / 280e9 + 15 * lat, 1e-12);
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 1024, 1, M), M / 420e9 + 10 * lat, 1e-12);
    assert_near(sp_collective_time(&s, SP_COLL_ALLGATHER, 4, 28, M), 0.75 * M / 140e9 + 3 * lat, 1e-12);
    assert_near(sp_collective_time(&s, SP_COLL_ALLREDUCE, 4, 1, M), 2 * 0.75 * M / 140e9 + 6 * lat, 1e-12);
    sp_system h = load_system("dgx-h100");
    assert_near(sp_collective_time(&h, SP_COLL_ALLGATHER, 4, 1, M), 0.75 * M / 360e9 + 3 * 6e-6, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_stripes_over_all_nics),
        cmocka_unit_test(test_one_rank_per_node_pat),
        cmocka_unit_test(test_allreduce_ring_tree_crossover),
        cmocka_unit_test(test_nvls_allreduce),
        cmocka_unit_test(test_placement_72),
        cmocka_unit_test(test_sm_contention),
        cmocka_unit_test(test_grad_reduce_fp32),
        cmocka_unit_test(test_torus_axes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
