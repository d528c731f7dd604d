//! What a membership's events imply: every line of the periods started by a
//! date, each under its key, before anything is compared with what was issued.

use super::*;

pub(super) fn billable(events: &[Recorded]) -> bool {
    let mut waiting = false;
    for r in events {
        match r.event {
            Event::Sold {
                approval_required, ..
            } => waiting = approval_required,
            Event::Approved { .. } => waiting = false,
            Event::Rejected { .. } => return false,
            _ => {}
        }
    }
    !waiting
}

pub(super) fn family_on(events: &[Recorded], day: NaiveDate) -> u32 {
    let mut count: i64 = 0;
    for r in events {
        match &r.event {
            Event::FamilyMemberAdded { on, .. } if *on <= day => count += 1,
            Event::FamilyMemberRemoved { on, .. } if *on <= day => count -= 1,
            _ => {}
        }
    }
    u32::try_from(count.max(0)).unwrap_or(0)
}

/// Every line the events imply for the periods that started on or before `up_to`.
pub fn expected(input: &BillingInput, up_to: NaiveDate) -> Vec<KeyedLine> {
    expected_in(input, up_to, &mut BTreeMap::new())
}

/// [`expected`], noting the last day (exclusive) of each period's days under
/// the dates its keys carry.
pub(super) fn expected_in(
    input: &BillingInput,
    up_to: NaiveDate,
    ends: &mut BTreeMap<NaiveDate, NaiveDate>,
) -> Vec<KeyedLine> {
    let mut out = Vec::new();
    let Some((sold_type, sold_price)) = input.price(input.sold.0, input.sold.1) else {
        return out;
    };
    if !billable(input.events) {
        return out;
    }
    let sold_m = Membership {
        spec: sold_type.spec,
        events: input.events,
        overdue: Default::default(),
    };
    match sold_type.spec.purchase_type {
        PurchaseType::Benefit => return out,
        PurchaseType::Prepaid => {
            return prepaid_lines(input, sold_price, &sold_type.spec.name, up_to);
        }
        PurchaseType::Recurring => {}
    }
    let Some(interval) = sold_type.spec.billing_interval else {
        return out;
    };
    // A pause resumed before it began changes no day.
    let pauses: Vec<_> = sold_m
        .pauses()
        .into_iter()
        .filter(|s| s.until != Some(s.from))
        .collect();
    let free: Vec<(NaiveDate, NaiveDate, &str)> = input
        .events
        .iter()
        .filter_map(|r| match r.event {
            Event::FreePeriods { from, until, .. } => Some((from, until, r.reason.as_str())),
            _ => None,
        })
        .collect();
    let term_end = sold_m.term_end(up_to);
    let mut billed_periods = 0u32;
    for run in runs(input.events, Some(interval)) {
        if run.first && run.anchor <= up_to && sold_price.initiation_fee.minor != 0 {
            out.push(initiation(sold_price.initiation_fee));
        }
        let Some(schedule) = &run.schedule else {
            continue;
        };
        for slot in schedule.slots() {
            // `p`: the period the fee is for; a bridging period covers part of it.
            let (days, p) = (slot.days, slot.basis);
            let stops = [run.end, term_end];
            if days.start > up_to || stops.iter().flatten().any(|e| days.start >= *e) {
                break;
            }
            ends.insert(p.start, days.end);
            ends.insert(days.start, days.end);
            let stop = run.end.filter(|_| input.credit_unused_on_cancel);
            let cuts = cuts_of(days, &pauses, &free, input.events, [term_end, stop]);
            let mut recurring = 0i64;
            for part in cuts.windows(2) {
                let (a, b) = (part[0], part[1]);
                let over = [stop, term_end];
                if over.iter().flatten().any(|e| a >= *e) {
                    break;
                }
                let (type_id, price_id) = sold_m.type_and_price_on(input.sold, a);
                let Some((t, price)) = input.price(type_id, price_id) else {
                    continue;
                };
                let paused = pauses.iter().any(|s| s.contains(a));
                let given = free
                    .iter()
                    .find(|(from, until, _)| *from <= a && a < *until)
                    .filter(|_| !paused)
                    .map(|(_, _, reason)| *reason);
                let part = Part {
                    t,
                    price,
                    basis: p,
                    days: BillingPeriod { start: a, end: b },
                    paused,
                    free: given,
                };
                if let Some(line) = part_line(&part, input.currency) {
                    if line.line.kind == LineKind::Recurring {
                        recurring += line.line.amount.minor;
                    }
                    out.push(line);
                }
            }
            out.extend(family_line(input, sold_type.spec, &slot));
            if let Some(discount) = input.discount.filter(|d| d.applies_to(billed_periods)) {
                out.extend(discount_line(input, discount, recurring, sold_price, days));
            }
            billed_periods += 1;
        }
    }
    out
}

/// One part of a period, for [`part_line`]: the type and price in effect in
/// it, the period its fee is for (`basis`), its days, and whether they are
/// paused or given free (with the reason).
pub(super) struct Part<'a> {
    t: &'a CatalogType<'a>,
    price: &'a PriceVersion,
    basis: BillingPeriod,
    days: BillingPeriod,
    paused: bool,
    free: Option<&'a str>,
}

/// The line of one part of a period: free, paused (its pause fee, none when
/// the fee is nothing) or billed at the price in effect; prorated by days
/// when the part is not the whole period.
pub(super) fn part_line(part: &Part<'_>, currency: Currency) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, currency);
    let Part {
        t,
        price,
        basis: p,
        days: BillingPeriod { start: a, end: b },
        paused,
        free,
    } = *part;
    let whole = a == p.start && b == p.end;
    let fraction = fraction_of(p, a, b);
    let (kind, amount, what) = if let Some(reason) = free {
        let days = (b - a).num_days();
        return Some(KeyedLine {
            key: LineKey::part(LineKind::Recurring, p.start, a),
            line: Line {
                kind: LineKind::Recurring,
                description: format!(
                    "{} (free), {}",
                    t.spec.name,
                    BillingPeriod { start: a, end: b }.text()
                ),
                period: Some(BillingPeriod { start: a, end: b }),
                amount: money(0),
                explanation: format!("{days} days given free: {reason}"),
            },
        });
    } else if paused {
        let fee = t
            .spec
            .policies
            .pause
            .as_ref()
            .map(|pp| pp.fee_per_period)
            .unwrap_or(money(0));
        (LineKind::PauseFee, fee, "pause fee")
    } else {
        (LineKind::Recurring, price.fee, "membership fee")
    };
    let amount = if whole {
        amount
    } else {
        prorate(amount, fraction)
    };
    if amount.minor == 0 && paused {
        return None;
    }
    let days = (b - a).num_days();
    let explanation = if whole {
        format!("{} days at {amount} per period", p.days())
    } else {
        let full = if paused {
            t.spec.policies.pause.as_ref().map(|pp| pp.fee_per_period)
        } else {
            Some(price.fee)
        };
        let full = full.unwrap_or(money(0));
        if paused {
            format!(
                "{days} of {} days paused, at the {what} of {full} a period",
                p.days()
            )
        } else {
            format!(
                "{days} of {} days of {} at {full} a period",
                p.days(),
                t.spec.name
            )
        }
    };
    let served = BillingPeriod { start: a, end: b };
    Some(KeyedLine {
        key: LineKey::part(kind, p.start, a),
        line: Line {
            kind,
            description: if paused {
                format!("Pause fee ({}), {}", t.spec.name, served.text())
            } else {
                format!("{}, {}", t.spec.name, served.text())
            },
            period: Some(served),
            amount,
            explanation,
        },
    })
}

/// The lines of a prepaid membership: its price once per term, and the
/// initiation fee with the first.
pub(super) fn prepaid_lines(
    input: &BillingInput,
    sold_price: &PriceVersion,
    name: &str,
    up_to: NaiveDate,
) -> Vec<KeyedLine> {
    let mut out = Vec::new();
    for run in runs(input.events, None)
        .iter()
        .filter(|r| r.anchor <= up_to)
    {
        let key = LineKey::on("prepaid", run.anchor);
        out.push(KeyedLine {
            key,
            line: Line {
                kind: LineKind::Prepaid,
                description: name.to_string(),
                period: None,
                amount: sold_price.fee,
                explanation: "paid once for the term".to_string(),
            },
        });
        if run.first && sold_price.initiation_fee.minor != 0 {
            out.push(initiation(sold_price.initiation_fee));
        }
    }
    out
}

/// Where the days of a period change hands: its first and last days, and
/// every pause, free period, change of type, price or cycle, renewal, term end
/// and (when unused days are credited) cancellation inside it; in order.
pub(super) fn cuts_of(
    days: BillingPeriod,
    pauses: &[Span],
    free: &[(NaiveDate, NaiveDate, &str)],
    events: &[Recorded],
    stops: [Option<NaiveDate>; 2],
) -> Vec<NaiveDate> {
    let mut cuts = vec![days.start, days.end];
    let mut cut = |d: NaiveDate| {
        if days.start < d && d < days.end {
            cuts.push(d);
        }
    };
    for span in pauses {
        cut(span.from);
        if let Some(u) = span.until {
            cut(u);
        }
    }
    for (from, until, _) in free {
        cut(*from);
        cut(*until);
    }
    for r in events {
        match &r.event {
            Event::TypeChanged { on, .. } | Event::PriceChanged { on, .. } => cut(*on),
            Event::CycleSwitched { on, .. } => cut(*on),
            Event::RenewedInto { from, .. } => cut(*from),
            _ => {}
        }
    }
    for stop in stops.into_iter().flatten() {
        cut(stop);
    }
    cuts.sort();
    cuts.dedup();
    cuts
}

/// The fee for the family members of a group membership in a slot's days.
pub(super) fn family_line(input: &BillingInput, spec: &TypeSpec, slot: &Slot) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, input.currency);
    let (days, p) = (slot.days, slot.basis);
    let family = family_on(input.events, days.start);
    let group = spec.group.as_ref()?;
    if family == 0 || group.additional_member_fee.minor == 0 {
        return None;
    }
    {
        let fee = group.additional_member_fee;
        let all = money(fee.minor * i64::from(family));
        let (amount, explanation) = if slot.is_part() {
            let fraction = fraction_of(p, days.start, days.end);
            (
                prorate(all, fraction),
                format!("{family} × {fee}, {} of {} days", days.days(), p.days()),
            )
        } else {
            (all, format!("{family} × {fee}"))
        };
        Some(KeyedLine {
            key: LineKey::on("family_member", days.start),
            line: Line {
                kind: LineKind::FamilyMember,
                description: format!("Family members ({family})"),
                period: Some(days),
                amount,
                explanation,
            },
        })
    }
}

/// A membership's discount on a period's membership fee (`recurring`).
pub(super) fn discount_line(
    input: &BillingInput,
    discount: &Discount,
    recurring: i64,
    sold_price: &PriceVersion,
    days: BillingPeriod,
) -> Option<KeyedLine> {
    let money = |minor: i64| Money::new(minor, input.currency);
    let base = money(recurring);
    let (off, explanation) = match discount {
        Discount::Percent { percent, .. } => (
            prorate(base, *percent / Decimal::ONE_HUNDRED),
            format!("{}% of {base}", percent.normalize()),
        ),
        Discount::Fixed { amount, .. } => (
            money(amount.minor.min(recurring)),
            format!("{amount} off the membership fee"),
        ),
        Discount::Manual { amount, reason } => (
            money(
                amount
                    .minor
                    .min(recurring + sold_price.initiation_fee.minor),
            ),
            format!("once: {reason}"),
        ),
    };
    (off.minor != 0).then(|| KeyedLine {
        key: LineKey::on("discount", days.start),
        line: Line {
            kind: LineKind::Discount,
            description: format!("Discount ({})", discount.describe()),
            period: Some(days),
            amount: money(-off.minor),
            explanation,
        },
    })
}

pub(super) fn initiation(fee: Money) -> KeyedLine {
    KeyedLine {
        key: LineKey::stored("initiation"),
        line: Line {
            kind: LineKind::Initiation,
            description: "Initiation fee".to_string(),
            period: None,
            amount: fee,
            explanation: "once, on the first invoice".to_string(),
        },
    }
}
