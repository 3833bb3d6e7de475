// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: a netfilter egress hook on the bound device.
 *
 * __dev_queue_xmit() runs egress hooks after qdisc_pkt_len_init() and before
 * tc and the qdisc, on the transmitting CPU with BHs off. The hook charges
 * the packet's wire length (GSO-aware: qdisc_pkt_len) to the device's bucket
 * (bucket.h) and then:
 *   - passes it (NF_ACCEPT) when it may leave now;
 *   - police mode: drops it (NF_DROP) when over the limit;
 *   - shape mode: steals it (NF_STOLEN) into the queue of its flow (by skb
 *     hash) and arms that queue's timer for its departure time; the timer
 *     (softirq) hands due packets back to dev_queue_xmit() with the egress
 *     hooks skipped, so tc and the qdisc still see them. A stolen skb keeps
 *     its socket's write memory charged, so TCP small queues and the socket
 *     send buffer push back on the sender instead of losing packets.
 *
 * A flow's packets always go through one queue and never overtake each
 * other: a TCP flow is sent from several CPUs (the application's, and the
 * one processing its ACKs), and per-CPU queues whose timers fire with
 * different delays reordered it into spurious retransmissions.
 *
 * Shared between CPUs: the bucket's atomic t_next, the RCU-read cfg, the
 * count of waiting packets (read by every packet, written only by delayed
 * ones: while it is 0 a packet the bucket passes needs no queue at all), and
 * a queue's lock among the CPUs sending flows of the same hash bucket; there
 * are twice as many queues as CPUs. Counters are per CPU. Every packet the
 * hook does not pass is counted in one of the drop counters.
 */
#include <linux/log2.h>
#include <linux/netfilter_netdev.h>
#include <linux/slab.h>
#include <net/sch_generic.h>

#include "daqs.h"

/* Release packets due within this much of now together. */
#define DAQS_RELEASE_SLACK_NS (20 * NSEC_PER_USEC)

struct daqs_skb_cb {
	u64 depart;		/* ns, CLOCK_MONOTONIC */
	u32 wire_len;
};

static struct daqs_skb_cb *daqs_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct daqs_skb_cb) > QDISC_CB_PRIV_LEN);
	return (struct daqs_skb_cb *)qdisc_skb_cb(skb)->data;
}

static void daqs_count_tx(struct daqs_pcpu *pc, const struct sk_buff *skb,
			  u32 wire_len)
{
	u64_stats_update_begin(&pc->stats.syncp);
	u64_stats_add(&pc->stats.tx_bytes, skb->len);
	u64_stats_inc(&pc->stats.tx_packets);
	u64_stats_add(&pc->stats.tx_wire_bytes, wire_len);
	u64_stats_add(&pc->stats.tx_wire_packets,
		      skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1);
	u64_stats_update_end(&pc->stats.syncp);
}

static void daqs_count(struct daqs_pcpu *pc, u64_stats_t *counter)
{
	u64_stats_update_begin(&pc->stats.syncp);
	u64_stats_inc(counter);
	u64_stats_update_end(&pc->stats.syncp);
}

static void daqs_xmit(struct daqs_binding *b, struct sk_buff *skb)
{
	daqs_count_tx(this_cpu_ptr(b->pcpu), skb, daqs_cb(skb)->wire_len);
	/* our hook (and any before it) already saw this packet */
	nf_skip_egress(skb, true);
	dev_queue_xmit(skb);
}

static enum hrtimer_restart daqs_release(struct hrtimer *timer)
{
	struct daqs_queue *dq = container_of(timer, struct daqs_queue, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	struct sk_buff_head send;
	struct sk_buff *skb;
	u64 due;

	__skb_queue_head_init(&send);
	spin_lock(&dq->skbs.lock);
	for (;;) {
		due = ktime_get_ns() + DAQS_RELEASE_SLACK_NS;
		while ((skb = skb_peek(&dq->skbs)) &&
		       daqs_cb(skb)->depart <= due) {
			__skb_unlink(skb, &dq->skbs);
			__skb_queue_tail(&send, skb);
		}
		if (skb_queue_empty(&send))
			break;
		/* a packet of these flows arriving now must wait for them */
		dq->releasing = true;
		spin_unlock(&dq->skbs.lock);
		while ((skb = __skb_dequeue(&send))) {
			daqs_xmit(dq->binding, skb);
			/* only now may its flow's next packet pass directly */
			atomic_dec(&dq->binding->queued);
		}
		spin_lock(&dq->skbs.lock);
		dq->releasing = false;
	}
	if (skb) {
		hrtimer_set_expires(timer, ns_to_ktime(daqs_cb(skb)->depart));
		ret = HRTIMER_RESTART;
	}
	spin_unlock(&dq->skbs.lock);
	return ret;
}

/* Queue @skb behind its flow; false if it may leave now after all. */
static bool daqs_enqueue(struct daqs_binding *b, struct daqs_queue *dq,
			 struct sk_buff *skb, u64 depart, bool may_pass)
{
	spin_lock(&dq->skbs.lock);
	if (may_pass && skb_queue_empty(&dq->skbs) && !dq->releasing) {
		spin_unlock(&dq->skbs.lock);
		return false;
	}
	daqs_cb(skb)->depart = depart;
	__skb_queue_tail(&dq->skbs, skb);
	atomic_inc(&b->queued);
	/* a releasing timer re-arms itself for what it finds queued */
	if (skb_queue_len(&dq->skbs) == 1 && !dq->releasing)
		hrtimer_start(&dq->timer, ns_to_ktime(depart),
			      HRTIMER_MODE_ABS_SOFT);
	spin_unlock(&dq->skbs.lock);
	return true;
}

static unsigned int daqs_hook(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	struct daqs_binding *b = priv;
	struct daqs_pcpu *pc = this_cpu_ptr(b->pcpu);
	const struct daqs_cfg *cfg = rcu_dereference(b->cfg);
	u32 wire_len = qdisc_pkt_len(skb);
	bool police = cfg->mode == DAQS_MODE_POLICE;
	enum daqs_verdict verdict;
	struct daqs_queue *dq;
	u64 depart;

	if (!cfg->rate.rate_bps)
		goto accept;

	verdict = daqs_bucket_admit(&b->bucket, &cfg->rate, wire_len,
				    ktime_get_ns(),
				    police ? 0 : cfg->qlimit_ns, &depart);
	if (verdict == DAQS_OVER) {
		daqs_count(pc, police ? &pc->stats.drops_police :
					&pc->stats.drops_qlimit);
		return NF_DROP;
	}
	/* the common case: nothing waits anywhere, no queue to look at */
	if (police || (verdict == DAQS_PASS && !atomic_read(&b->queued)))
		goto accept;

	/* never overtake this flow's packets waiting in its queue */
	dq = &b->queues[skb_get_hash(skb) & b->queue_mask];
	if (skb_queue_len_lockless(&dq->skbs) >= DAQS_QUEUE_MAX_PACKETS) {
		daqs_bucket_refund(&b->bucket, &cfg->rate, wire_len);
		daqs_count(pc, &pc->stats.drops_qlimit);
		return NF_DROP;
	}
	daqs_cb(skb)->wire_len = wire_len;
	if (!daqs_enqueue(b, dq, skb, depart, verdict == DAQS_PASS))
		goto accept;
	daqs_count(pc, &pc->stats.throttled);
	return NF_STOLEN;

accept:
	daqs_count_tx(pc, skb, wire_len);
	return NF_ACCEPT;
}

int daqs_datapath_init(struct daqs_binding *b)
{
	unsigned int i, n = roundup_pow_of_two(max(2 * nr_cpu_ids, 4U));
	int cpu;

	b->pcpu = alloc_percpu(struct daqs_pcpu);
	if (!b->pcpu)
		return -ENOMEM;
	b->queues = kcalloc(n, sizeof(*b->queues), GFP_KERNEL);
	if (!b->queues) {
		free_percpu(b->pcpu);
		return -ENOMEM;
	}
	b->queue_mask = n - 1;
	for (i = 0; i < n; i++) {
		struct daqs_queue *dq = &b->queues[i];

		skb_queue_head_init(&dq->skbs);
		dq->binding = b;
		hrtimer_init(&dq->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_ABS_SOFT);
		dq->timer.function = daqs_release;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(b->pcpu, cpu)->stats.syncp);
	/* a new binding starts with a full bucket, like tbf */
	daqs_bucket_init(&b->bucket, 0);
	return 0;
}

void daqs_datapath_uninit(struct daqs_binding *b)
{
	kfree(b->queues);
	free_percpu(b->pcpu);
}

int daqs_datapath_attach(struct daqs_binding *b, struct net_device *dev)
{
	b->hook = (struct nf_hook_ops) {
		.hook = daqs_hook,
		.priv = b,
		.pf = NFPROTO_NETDEV,
		.hooknum = NF_NETDEV_EGRESS,
		/* last, so that a packet we delay has passed every other hook */
		.priority = INT_MAX,
		.dev = dev,
	};
	return nf_register_net_hook(dev_net(dev), &b->hook);
}

/*
 * Unhook, then empty the queues: sent when the binding is deleted from a
 * live device, counted as drops when the device is going away.
 */
void daqs_datapath_detach(struct daqs_binding *b, bool send_queued)
{
	unsigned int i;

	nf_unregister_net_hook(dev_net(b->hook.dev), &b->hook);
	/*
	 * nf_unregister_net_hook() does not wait for hooks still running on
	 * other CPUs (they run under RCU): wait here, or one of them could queue
	 * a packet and arm a timer after the queues were emptied and freed.
	 */
	synchronize_net();
	for (i = 0; i <= b->queue_mask; i++) {
		struct daqs_queue *dq = &b->queues[i];
		struct sk_buff_head left;
		struct sk_buff *skb;

		hrtimer_cancel(&dq->timer);
		__skb_queue_head_init(&left);
		spin_lock_bh(&dq->skbs.lock);
		skb_queue_splice_init(&dq->skbs, &left);
		spin_unlock_bh(&dq->skbs.lock);

		local_bh_disable();
		while ((skb = __skb_dequeue(&left))) {
			atomic_dec(&b->queued);
			if (send_queued) {
				daqs_xmit(b, skb);
			} else {
				struct daqs_pcpu *pc = this_cpu_ptr(b->pcpu);

				daqs_count(pc, &pc->stats.drops_detach);
				kfree_skb(skb);
			}
		}
		local_bh_enable();
	}
}

void daqs_datapath_stats(const struct daqs_binding *b,
			 struct daqs_stats_snapshot *s)
{
	int cpu;

	memset(s, 0, sizeof(*s));
	for_each_possible_cpu(cpu) {
		const struct daqs_pcpu *pc = per_cpu_ptr(b->pcpu, cpu);
		const struct daqs_stats *st = &pc->stats;
		struct daqs_stats_snapshot c;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			c.tx_bytes = u64_stats_read(&st->tx_bytes);
			c.tx_packets = u64_stats_read(&st->tx_packets);
			c.tx_wire_bytes = u64_stats_read(&st->tx_wire_bytes);
			c.tx_wire_packets = u64_stats_read(&st->tx_wire_packets);
			c.drops_police = u64_stats_read(&st->drops_police);
			c.drops_qlimit = u64_stats_read(&st->drops_qlimit);
			c.drops_detach = u64_stats_read(&st->drops_detach);
			c.throttled = u64_stats_read(&st->throttled);
		} while (u64_stats_fetch_retry(&st->syncp, start));

		s->tx_bytes += c.tx_bytes;
		s->tx_packets += c.tx_packets;
		s->tx_wire_bytes += c.tx_wire_bytes;
		s->tx_wire_packets += c.tx_wire_packets;
		s->drops_police += c.drops_police;
		s->drops_qlimit += c.drops_qlimit;
		s->drops_detach += c.drops_detach;
		s->throttled += c.throttled;
	}
	s->queued = atomic_read(&b->queued);
}
