/* Uneven pipeline stages: layers not divisible by pp*vpp (Megatron-Core allows them; NVIDIA's Llama 3.1 405B
 * recipe runs 126 layers on PP 16 x VP 8). */
#include "testutil.h"
#include "plan.h"
#include "step.h"

#include <stdio.h>

static void plan_of(sp_plan *p, int gpus, int tp, int pp, int vpp)
{
    sp_plan_defaults(p);
    p->n_gpus = gpus, p->tp = tp, p->pp = pp, p->vpp = vpp;
    p->global_batch = 512, p->micro_batch = 1, p->seq_len = 8192;
    p->recompute = SP_RECOMPUTE_SELECTIVE, p->seq_parallel = 1;
}

/* Rule: the heaviest stage sets the pipeline's slot, and it holds ceil(L/pp) layers. A 126-layer model on PP 16
 * x VP 4 (126 is not a multiple of 64) runs its stages at ceil(126/16) = 8 layers, exactly the layers, compute
 * and layer memory of the 128-layer model, whose stages hold 8 each; only the average stage (the bubble) and the
 * embedding/LM-head stages' share differ. */
static void test_uneven_virtual_stages(void **st)
{
    (void)st;
    sp_model m, m128;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3.1-405b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    assert_int_equal(m.n_layers, 126);
    m128 = m;
    m128.n_layers = 128;
    sp_plan p, q;
    plan_of(&p, 2048, 8, 16, 4);
    plan_of(&q, 2048, 8, 16, 4);
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(sp_plan_resolve(&q, &m128, &s, &e), SP_OK);
    sp_train_result a, b;
    assert_int_equal(sp_train_eval(&m, &s, &p, &a, &e), SP_OK);
    assert_int_equal(sp_train_eval(&m128, &s, &q, &b, &e), SP_OK);
    assert_true(a.t.compute == b.t.compute);
    assert_true(a.t.tp_comm == b.t.tp_comm);
    assert_true(a.mem.activations == b.mem.activations);
    assert_true(a.mem.weights == b.mem.weights);
    assert_true(a.step_time_s < b.step_time_s); /* 2 fewer layers: a smaller bubble, never a slower step */
}

/* Rule: every virtual stage needs a layer, the embedding and the loss counting as one each (Megatron-Core's
 * pipeline split): 126 layers fit PP 16 x VP 8 = 128 virtual stages; 32 layers do not fit 40. */
static void test_too_many_virtual_stages(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK); /* 32 layers */
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_plan p;
    plan_of(&p, 64, 1, 8, 5);
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: pp*vpp = 40 exceeds the number of layers (32) + 2 (embedding and loss): every "
                               "virtual stage needs a layer");
    sp_model big;
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3.1-405b", &big, &e), SP_OK);
    plan_of(&p, 2048, 8, 16, 8);
    assert_int_equal(sp_plan_resolve(&p, &big, &s, &e), SP_OK);
}

/* Rule (docs/model.md "Pipeline layout"): a Megatron-Core layout unrolls as its parser does ("x*n", "(...)*n",
 * commas dropped) into pp x vpp virtual stages; one that is malformed, has another stage count, or misses the
 * embedding, the loss or the model's layers is refused naming the layout. */
static void test_layout_parse(void **st)
{
    (void)st;
    char buf[SP_PP_EXPANDED];
    assert_int_equal(sp_pp_layout_expand("Et*2|(t*3|)*2,tmL", buf, sizeof buf), 4);
    assert_string_equal(buf, "Ett|ttt|ttt|tmL");
    assert_int_equal(sp_pp_layout_expand("E|(t|)*3L", buf, sizeof buf), 5);
    assert_string_equal(buf, "E|t|t|t|L");
    const char *bad[] = {"Ex|L", "(t|L", "(t|)L", "Et*|L", "(t(t))*2", "Et*100001L"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(sp_pp_layout_expand(bad[i], buf, sizeof buf), -1);
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3.1-405b", &m, &e), SP_OK); /* 126 layers */
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_plan p;
    plan_of(&p, 2048, 8, 16, 8);
    snprintf(p.pp_layout, sizeof p.pp_layout, "E|(t|)*126L");
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    p.vpp = 4;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: pp_layout 'E|(t|)*126L' has 128 virtual stages, pp*vpp = 16*4");
    p.vpp = 8;
    snprintf(p.pp_layout, sizeof p.pp_layout, "E|(t|)*125|L");
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: pp_layout 'E|(t|)*125|L' must hold the embedding first and the loss last once "
                               "each, the model's 126 decoder layers (the layout has 125) and 0 MTP modules (the "
                               "layout has 0) after them");
}

/* Rule: with a layout each pipeline rank's slot is its own virtual stages' layers plus the embedding and the LM head
 * they hold (rank r runs stages j, j % pp = r). Qwen3-235B-A22B (94 MoE layers) on PP 8 x VP 3 with Megatron-Core's
 * split accounting (embedding and loss one layer each: 96 / 24 = 4 per stage): rank 0 holds the embedding and 3 + 4 +
 * 4 layers, ranks 1-6 12 layers, rank 7 4 + 4 + 3 layers and the LM head, so the slot is max(12 x layer, 11 x layer
 * + head, 11 x layer + embedding); the even split's slot is ceil(94/8) = 12 layers + the LM head. */
static void test_layout_slots(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "qwen3-235b-a22b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "gb200-nvl72", &s, &e), SP_OK);
    assert_int_equal(m.n_layers, 94);
    assert_int_equal(m.first_dense_layers, 0);
    sp_plan p;
    plan_of(&p, 256, 1, 8, 3);
    p.ep = 32, p.global_batch = 8192, p.seq_len = 4096, p.recompute = SP_RECOMPUTE_NONE;
    sp_plan q = p;
    snprintf(p.pp_layout, sizeof p.pp_layout, "Et*3|(t*4|)*22t*3L");
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(sp_plan_resolve(&q, &m, &s, &e), SP_OK);
    sp_shape_step c;
    sp_pipe_step o, u;
    sp_shape_step_fill(&m, &s, &p, NULL, NULL, &c);
    sp_pipe_step_stage(&m, &p, &c, &o);
    sp_pipe_step_fill(&m, &s, &p, &c, &o);
    sp_pipe_step_stage(&m, &q, &c, &u);
    sp_pipe_step_fill(&m, &s, &q, &c, &u);
    double layer = c.sparse.fwd_compute + c.sparse.fwd_mem + c.sparse.bwd_compute + c.sparse.bwd_mem +
                   c.sparse.tp_fwd + c.sparse.tp_bwd + c.sparse.ep_fwd + c.sparse.ep_bwd + c.sparse.host_f +
                   c.sparse.host_b + c.sparse.cp_fwd + c.sparse.cp_bwd;
    double want = fmax(12 * layer, fmax(11 * layer + c.head, 11 * layer + c.emb));
    assert_rel(o.slot_max[SP_RECOMPUTE_NONE], want, 1e-12);
    assert_rel(u.slot_max[SP_RECOMPUTE_NONE], 12 * layer + c.head, 1e-12);
    assert_true(o.layers == (11 * layer + c.head > 12 * layer ? 11 : 12) && u.layers == 12); /* the slowest rank's */
}

static void eval_sched(const sp_model *m, const sp_system *s, sp_schedule k, int vpp, sp_train_result *r)
{
    sp_plan p;
    sp_error e = {0};
    plan_of(&p, 64, 4, 8, vpp);
    p.global_batch = 64;
    p.schedule = k;
    assert_int_equal(sp_plan_resolve(&p, m, s, &e), SP_OK);
    assert_int_equal(sp_train_eval(m, s, &p, r, &e), SP_OK);
}

/* Rule (docs/model.md "Schedules"): on the same plan, ZB-H1 keeps 1F1B's memory and cuts its bubble by the deferred
 * weight-gradient passes, to between 1/3 (F = B_input = W, Qi et al. 2023) and 1 of it; ZB-V (two chunks in a V)
 * has a smaller bubble still at 1F1B's activation memory, not the interleaved schedule's; DualPipe (even PP) holds
 * two copies of the parameters and one more micro-batch, and its bubble is below 1F1B's; the compute is the same. */
static void test_schedules(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-70b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_train_result f1, zh, zv, iv, dpp;
    eval_sched(&m, &s, SP_SCHED_1F1B, 1, &f1);
    eval_sched(&m, &s, SP_SCHED_ZBH1, 1, &zh);
    eval_sched(&m, &s, SP_SCHED_ZBV, 2, &zv);
    eval_sched(&m, &s, SP_SCHED_1F1B, 2, &iv);
    eval_sched(&m, &s, SP_SCHED_DUALPIPE, 1, &dpp);
    print_message("bubble 1F1B %.3f, ZB-H1 %.3f, ZB-V %.3f, interleaved-2 %.3f, DualPipe %.3f s\n", f1.t.bubble,
                  zh.t.bubble, zv.t.bubble, iv.t.bubble, dpp.t.bubble);
    assert_true(zh.t.bubble < f1.t.bubble && zh.t.bubble > f1.t.bubble / 3);
    assert_true(zh.mem.total == f1.mem.total && zh.t.compute == f1.t.compute);
    assert_true(zv.t.bubble < zh.t.bubble && zv.t.bubble < iv.t.bubble);
    assert_true(zv.mem.activations == f1.mem.activations && iv.mem.activations > f1.mem.activations);
    assert_true(dpp.t.bubble < f1.t.bubble);
    assert_true(fabs(dpp.mem.weights - 2 * f1.mem.weights) < 1e-6 * f1.mem.weights);
    assert_true(dpp.mem.activations > f1.mem.activations);
    /* what each schedule needs of the plan */
    sp_plan p;
    plan_of(&p, 64, 4, 8, 1);
    p.schedule = SP_SCHED_ZBV;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: schedule zb-v runs two model chunks per GPU (a V): needs vpp 2, not 1");
    plan_of(&p, 72, 4, 9, 1);
    p.global_batch = 72;
    p.schedule = SP_SCHED_DUALPIPE;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: schedule dualpipe pairs the stages of two directions: needs an even pp, not 9");
}

/* Pipeline send and step parts of plan p on s */
static void sends_of(const sp_model *m, const sp_system *s, int vpp, sp_pipe_step *o, sp_plan_step_parts *q)
{
    sp_plan p;
    sp_error e = {0};
    plan_of(&p, 64, 4, 4, vpp);
    p.global_batch = 64, p.zero = 1;
    assert_int_equal(sp_plan_resolve(&p, m, s, &e), SP_OK);
    sp_shape_step c;
    sp_shape_step_fill(m, s, &p, NULL, NULL, &c);
    sp_pipe_step_stage(m, &p, &c, o);
    sp_pipe_step_fill(m, s, &p, &c, o);
    sp_plan_step_time(o, vpp, p.zero, (int)p.recompute, q);
}

/* Rule (docs/model.md "Pipeline sends"): per micro-batch and virtual stage a rank sends an activation forward and a
 * gradient backward, 2 hops on the slot where the stack blocks on them (and always without interleaving: Megatron-Core
 * overlaps sends only under the interleaved schedule). A stack that overlaps them (Megatron-Core overlap_p2p_comm)
 * leaves sm_share of each on the slot, the compute its NCCL kernels' SMs slow (on H100 24 of 132 SMs); one that waits
 * for each forward send (pp_send_wait) pays that hop in full and sm_share of the other; a launch with one device
 * connection (kernels.one_queue) serializes them, and the data-parallel reduction with them. The fill and drain keep every hop: the bubble is the same in all
 * three. Llama-3-70B on 64 H100s, TP 4, PP 4, VP 5, selective recompute. */
static void test_pp_send_overlap(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-70b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_pipe_step o;
    sp_plan_step_parts blocking, hidden, waited, flat;
    s.overlap_pp = 0;
    sends_of(&m, &s, 5, &o, &blocking);
    double hop = o.pp_hop, sigma = 24.0 / 132.0;
    assert_true(hop > 0);
    assert_rel(sp_comm_sm_share(&s.acc), sigma, 1e-15);
    assert_rel(blocking.pp_comm_slot, 2 * 5 * hop, 1e-15);
    s.overlap_pp = 1;
    sends_of(&m, &s, 5, &o, &hidden);
    assert_rel(hidden.pp_comm_slot, 2 * 5 * hop * sigma, 1e-12);
    s.pp_send_wait = 1;
    sends_of(&m, &s, 5, &o, &waited);
    assert_rel(waited.pp_comm_slot, 5 * hop * (1 + sigma), 1e-12);
    assert_rel(hidden.bubble, blocking.bubble, 1e-15);
    assert_rel(waited.bubble, blocking.bubble, 1e-15);
    assert_rel(blocking.step - hidden.step, o.n_micro * 2 * 5 * hop * (1 - sigma), 1e-9);
    sends_of(&m, &s, 1, &o, &flat); /* no interleaving: blocking sends whatever the stack */
    assert_rel(flat.pp_comm_slot, 2 * hop, 1e-15);
    /* a chunk shorter than its overlapped sends C (F = C/4 here) pays max(C, F + sigma C) - F = 3C/4 per chunk */
    sp_pipe_step short_chunk = o;
    short_chunk.pp_hidden = 2, short_chunk.slot_max[SP_RECOMPUTE_SELECTIVE] = 5 * hop / 2;
    sp_plan_step_parts sc;
    sp_plan_step_time(&short_chunk, 5, 1, SP_RECOMPUTE_SELECTIVE, &sc);
    assert_rel(sc.pp_comm_slot, 5 * (2 * hop - hop / 2), 1e-12);
    /* one device connection on the job's family (TP 4 here): the overlapped sends block again; a family that is
     * not a whole item of the list, or MoE EP overlap where the launcher exempts it, keeps them overlapped */
    assert_int_equal(o.overlap, 1);
    s.pp_send_wait = 0;
    snprintf(s.one_queue, sizeof s.one_queue, "ampere,hopper");
    sends_of(&m, &s, 5, &o, &hidden);
    assert_rel(hidden.pp_comm_slot, 2 * 5 * hop, 1e-15);
    /* ... and so is the data-parallel reduction: the ZeRO-1 reduce-scatter + all-gather all exposed */
    assert_int_equal(o.overlap, 0);
    assert_rel(hidden.dp, o.zero12_rs_ag, 1e-15);
    s.overlap_ep = 1;
    sends_of(&m, &s, 5, &o, &hidden);
    assert_rel(hidden.pp_comm_slot, 2 * 5 * hop * sigma, 1e-12);
    s.one_queue_ep = 1;
    sends_of(&m, &s, 5, &o, &hidden);
    assert_rel(hidden.pp_comm_slot, 2 * 5 * hop, 1e-15);
    snprintf(s.one_queue, sizeof s.one_queue, "hopperx,ampere");
    sends_of(&m, &s, 5, &o, &hidden);
    assert_rel(hidden.pp_comm_slot, 2 * 5 * hop * sigma, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uneven_virtual_stages),
        cmocka_unit_test(test_too_many_virtual_stages),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_layout_parse),
        cmocka_unit_test(test_layout_slots),
        cmocka_unit_test(test_pp_send_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
