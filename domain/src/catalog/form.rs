//! The membership type form: every field as typed, read into a type's spec with
//! each problem next to its field.

use super::*;

/// What validation of a type needs to know about the business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogContext {
    pub currency: Currency,
    pub location_ids: Vec<i64>,
    pub member_types: Vec<String>,
    /// Other types of the business (a renewal target must be one of them).
    pub other_type_ids: Vec<i64>,
}

impl CatalogContext {
    /// A business with no locations, member types or other types to check against.
    pub fn bare(currency: Currency) -> CatalogContext {
        CatalogContext {
            currency,
            location_ids: Vec::new(),
            member_types: Vec::new(),
            other_type_ids: Vec::new(),
        }
    }
}

/// A membership type as typed into the staff app's form: all text, as browsers send it.
/// Fields a form leaves out take their defaults, so the quick form (name, purchase
/// type, interval, fee, status) and the full editor share one rule set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MembershipTypeForm {
    pub name: String,
    pub description: String,
    pub color: String,
    pub purchase_type: String,
    /// Empty unless the purchase type is recurring.
    pub billing_interval: String,
    pub status: String,
    pub fee: String,
    pub initiation_fee: String,
    pub term_kind: String,
    pub term_years: String,
    pub term_months: String,
    pub term_days: String,
    /// One range a line: "2026-09-01 to 2027-05-31".
    pub seasons: String,
    pub end_action: String,
    pub renew_into: String,
    pub punch_card_credits: String,
    /// "all" (the default) or "selected" (then `location_ids`).
    pub location_scope: String,
    pub location_ids: Vec<String>,
    pub member_types: Vec<String>,
    pub youth: String,
    pub group: String,
    pub max_family_members: String,
    pub additional_member_fee: String,
    pub credits_per_period: String,
    pub carry_over_cap: String,
    pub credit_expiry_after: String,
    pub credit_expiry_unit: String,
    /// One service a line: "Massage: 1".
    pub included_services: String,
    pub member_discount_percent: String,
    pub pause_allowed: String,
    pub pause_max_per_year: String,
    pub pause_min_days: String,
    pub pause_max_days: String,
    pub pause_fee: String,
    pub pause_extends_commitment: String,
    pub pause_portal: String,
    pub min_commitment_periods: String,
    pub notice_days: String,
    pub cancel_timing: String,
    pub cancel_portal: String,
    pub approval_required: String,
    pub one_per_member: String,
    pub revenue_account: String,
    pub deferred_revenue: String,
}

/// A validated new membership type: settings, first status and first price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMembershipType {
    pub spec: TypeSpec,
    pub status: TypeStatus,
    pub price: Price,
}

impl MembershipTypeForm {
    /// Checks a new type: its settings, its first price, and a first status of draft or active.
    pub fn validate_new(&self, ctx: &CatalogContext) -> Result<NewMembershipType, Invalid> {
        let mut invalid = Invalid::default();
        let spec = self.check_spec(ctx, &mut invalid);
        let purchase_type = PurchaseType::parse(self.purchase_type.trim());
        let price = check_price(
            purchase_type,
            &self.fee,
            &self.initiation_fee,
            ctx.currency,
            &mut invalid,
        );
        let status = match TypeStatus::parse(self.status.trim()) {
            Some(status @ (TypeStatus::Draft | TypeStatus::Active)) => Some(status),
            _ => {
                invalid.push("status", "a new type is either draft or active");
                None
            }
        };
        match (spec, price, status) {
            (Some(spec), Some(price), Some(status)) if invalid.is_empty() => {
                Ok(NewMembershipType {
                    spec,
                    status,
                    price,
                })
            }
            _ => Err(invalid),
        }
    }

    /// Checks the settings of a type (create or edit), reporting every problem at once.
    pub fn validate_spec(&self, ctx: &CatalogContext) -> Result<TypeSpec, Invalid> {
        let mut invalid = Invalid::default();
        match self.check_spec(ctx, &mut invalid) {
            Some(spec) if invalid.is_empty() => Ok(spec),
            _ => Err(invalid),
        }
    }

    fn check_spec(&self, ctx: &CatalogContext, invalid: &mut Invalid) -> Option<TypeSpec> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter a name");
        } else if name.chars().count() > NAME_MAX_CHARS {
            invalid.push("name", format!("use at most {NAME_MAX_CHARS} characters"));
        }
        let description = self.description.trim().to_string();
        if description.chars().count() > DESCRIPTION_MAX_CHARS {
            invalid.push(
                "description",
                format!("use at most {DESCRIPTION_MAX_CHARS} characters"),
            );
        }
        let color = match self.color.trim() {
            "" => DEFAULT_COLOR.to_string(),
            c if c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()) =>
            {
                c.to_lowercase()
            }
            _ => {
                invalid.push("color", "use a colour such as #1f5fbf");
                DEFAULT_COLOR.to_string()
            }
        };

        let purchase_type = PurchaseType::parse(self.purchase_type.trim());
        if purchase_type.is_none() {
            invalid.push("purchase_type", "choose recurring, prepaid or benefit");
        }
        let billing_interval = self.check_interval(purchase_type, invalid);
        let term = self.check_term(purchase_type, invalid);
        let (end_action, renew_into) = self.check_end_action(term.as_ref(), ctx, invalid);

        let punch_card_credits = optional_count(
            invalid,
            "punch_card_credits",
            &self.punch_card_credits,
            10_000,
        );
        if punch_card_credits.is_some() && purchase_type != Some(PurchaseType::Prepaid) {
            invalid.push(
                "punch_card_credits",
                "only a prepaid type can be a punch card",
            );
        }
        if punch_card_credits == Some(0) {
            invalid.push("punch_card_credits", "a punch card has at least one visit");
        }

        let all_locations = match self.location_scope.trim() {
            "" | "all" => true,
            "selected" => false,
            _ => {
                invalid.push(
                    "location_scope",
                    "choose all locations or selected locations",
                );
                true
            }
        };
        let mut location_ids = Vec::new();
        for text in self
            .location_ids
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            match text.parse::<i64>() {
                Ok(id) if ctx.location_ids.contains(&id) => {
                    if !location_ids.contains(&id) {
                        location_ids.push(id);
                    }
                }
                _ => invalid.push("location_ids", "choose locations from the list"),
            }
        }
        if all_locations {
            location_ids.clear();
        } else if location_ids.is_empty() {
            invalid.push(
                "location_ids",
                "choose at least one location, or all locations",
            );
        }
        location_ids.sort_unstable();

        let mut member_types = Vec::new();
        for text in self
            .member_types
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            match ctx
                .member_types
                .iter()
                .find(|m| m.eq_ignore_ascii_case(text))
            {
                Some(known) if !member_types.contains(known) => member_types.push(known.clone()),
                Some(_) => {}
                None => invalid.push(
                    "member_types",
                    format!("{text:?} is not one of the business's member types"),
                ),
            }
        }

        let group = self.check_group(ctx.currency, invalid);
        let benefits = self.check_benefits(invalid);
        let policies = self.check_policies(purchase_type, ctx.currency, invalid);

        let revenue_account = self.revenue_account.trim().to_string();
        if revenue_account.chars().count() > 40 {
            invalid.push("revenue_account", "use at most 40 characters");
        }

        Some(TypeSpec {
            name,
            description,
            color,
            purchase_type: purchase_type?,
            billing_interval,
            term: term?,
            end_action,
            renew_into,
            punch_card_credits,
            all_locations,
            location_ids,
            member_types,
            youth: checked(&self.youth),
            group,
            benefits,
            policies: policies?,
            revenue_account,
            deferred_revenue: checked(&self.deferred_revenue),
        })
    }

    fn check_interval(
        &self,
        purchase_type: Option<PurchaseType>,
        invalid: &mut Invalid,
    ) -> Option<BillingInterval> {
        match (purchase_type, self.billing_interval.trim()) {
            (Some(PurchaseType::Recurring), "") => {
                invalid.push(
                    "billing_interval",
                    "a recurring type needs a billing interval",
                );
                None
            }
            (Some(PurchaseType::Recurring), text) => {
                let interval = BillingInterval::parse(text);
                if interval.is_none() {
                    invalid.push(
                        "billing_interval",
                        "choose a billing interval from the list",
                    );
                }
                interval
            }
            (_, "") | (None, _) => None,
            (Some(other), _) => {
                invalid.push(
                    "billing_interval",
                    format!(
                        "a {} type is not billed by interval: leave it empty",
                        other.label().to_lowercase()
                    ),
                );
                None
            }
        }
    }

    fn check_term(
        &self,
        purchase_type: Option<PurchaseType>,
        invalid: &mut Invalid,
    ) -> Option<Term> {
        let kind = match self.term_kind.trim() {
            "" => TermKind::Ongoing,
            text => match TermKind::parse(text) {
                Some(kind) => kind,
                None => {
                    invalid.push("term_kind", "choose ongoing, fixed length or fixed dates");
                    return None;
                }
            },
        };
        let term = match kind {
            TermKind::Ongoing => Term::Ongoing,
            TermKind::Fixed => {
                let years =
                    optional_count(invalid, "term_years", &self.term_years, 100).unwrap_or(0);
                let months =
                    optional_count(invalid, "term_months", &self.term_months, 1200).unwrap_or(0);
                let days =
                    optional_count(invalid, "term_days", &self.term_days, 36_600).unwrap_or(0);
                let length = FixedLength {
                    years,
                    months,
                    days,
                };
                if length.is_zero() {
                    invalid.push(
                        "term_years",
                        "a fixed term needs a length in years, months or days",
                    );
                    return None;
                }
                Term::Fixed { length }
            }
            TermKind::Seasons => match parse_seasons(&self.seasons) {
                Ok(ranges) => Term::Seasons { ranges },
                Err(message) => {
                    invalid.push("seasons", message);
                    return None;
                }
            },
        };
        if purchase_type == Some(PurchaseType::Prepaid) && term == Term::Ongoing {
            invalid.push(
                "term_kind",
                "a prepaid type is paid up front for a term: choose a fixed length or fixed dates",
            );
            return None;
        }
        Some(term)
    }

    fn check_end_action(
        &self,
        term: Option<&Term>,
        ctx: &CatalogContext,
        invalid: &mut Invalid,
    ) -> (EndAction, Option<i64>) {
        let action = match self.end_action.trim() {
            "" => EndAction::Expire,
            text => match EndAction::parse(text) {
                Some(action) => action,
                None => {
                    invalid.push("end_action", "choose what happens at the end of the term");
                    return (EndAction::Expire, None);
                }
            },
        };
        if term == Some(&Term::Ongoing) && action != EndAction::Expire {
            invalid.push("end_action", "an ongoing type has no end: nothing to renew");
        }
        let renew_into = match action {
            EndAction::RenewOther => match self.renew_into.trim().parse::<i64>() {
                Ok(id) if ctx.other_type_ids.contains(&id) => Some(id),
                _ => {
                    invalid.push("renew_into", "choose the type it renews into");
                    None
                }
            },
            _ => None,
        };
        (action, renew_into)
    }

    fn check_group(&self, currency: Currency, invalid: &mut Invalid) -> Option<GroupPolicy> {
        let is_group = checked(&self.group);
        let max = optional_count(invalid, "max_family_members", &self.max_family_members, 100);
        if !is_group {
            if max.is_some_and(|m| m > 0) {
                invalid.push(
                    "max_family_members",
                    "a maximum family size needs a group type: tick \"group membership\"",
                );
            }
            return None;
        }
        let max = match max {
            Some(m) if m > 0 => m,
            _ => {
                invalid.push(
                    "max_family_members",
                    "a group membership covers at least one family member",
                );
                return None;
            }
        };
        let fee_text = if self.additional_member_fee.trim().is_empty() {
            "0"
        } else {
            &self.additional_member_fee
        };
        let fee = invalid.check("additional_member_fee", Money::parse(fee_text, currency))?;
        if fee.is_negative() {
            invalid.push("additional_member_fee", "the fee cannot be negative");
            return None;
        }
        Some(GroupPolicy {
            max_family_members: max,
            additional_member_fee: fee,
        })
    }

    fn check_benefits(&self, invalid: &mut Invalid) -> Benefits {
        let credits_per_period = optional_count(
            invalid,
            "credits_per_period",
            &self.credits_per_period,
            10_000,
        )
        .unwrap_or(0);
        let carry_over_cap = match self.carry_over_cap.trim() {
            "" => Some(0),
            "all" | "unlimited" => None,
            _ => optional_count(invalid, "carry_over_cap", &self.carry_over_cap, 100_000),
        };
        if credits_per_period == 0 && carry_over_cap.is_some_and(|c| c > 0) {
            invalid.push(
                "carry_over_cap",
                "a carry-over cap needs credits granted each period",
            );
        }
        let credit_expiry = match optional_count(
            invalid,
            "credit_expiry_after",
            &self.credit_expiry_after,
            3650,
        ) {
            None | Some(0) => None,
            Some(after) => match ExpiryUnit::parse(self.credit_expiry_unit.trim()) {
                Some(unit) => Some(CreditExpiry { after, unit }),
                None => {
                    invalid.push("credit_expiry_unit", "choose days or periods");
                    None
                }
            },
        };
        let included_services = match parse_included_services(&self.included_services) {
            Ok(services) => services,
            Err(message) => {
                invalid.push("included_services", message);
                Vec::new()
            }
        };
        let member_discount_percent = match parse_percent(&self.member_discount_percent) {
            Ok(p) => p,
            Err(message) => {
                invalid.push("member_discount_percent", message);
                Decimal::ZERO
            }
        };
        Benefits {
            credits_per_period,
            carry_over_cap,
            credit_expiry,
            included_services,
            member_discount_percent,
        }
    }

    fn check_policies(
        &self,
        purchase_type: Option<PurchaseType>,
        currency: Currency,
        invalid: &mut Invalid,
    ) -> Option<Policies> {
        let pause = if checked(&self.pause_allowed) {
            let max_per_year =
                optional_count(invalid, "pause_max_per_year", &self.pause_max_per_year, 365);
            let min_days = optional_count(invalid, "pause_min_days", &self.pause_min_days, 3650)
                .unwrap_or(1)
                .max(1);
            let max_days = optional_count(invalid, "pause_max_days", &self.pause_max_days, 3650);
            if max_days.is_some_and(|max| max < min_days) {
                invalid.push(
                    "pause_max_days",
                    "the longest pause cannot be shorter than the shortest",
                );
            }
            if max_per_year == Some(0) {
                invalid.push(
                    "pause_max_per_year",
                    "allow at least one pause a year, or untick pausing",
                );
            }
            let fee_text = if self.pause_fee.trim().is_empty() {
                "0"
            } else {
                &self.pause_fee
            };
            let fee = invalid.check("pause_fee", Money::parse(fee_text, currency));
            if fee.is_some_and(|f| f.is_negative()) {
                invalid.push("pause_fee", "the pause fee cannot be negative");
            }
            Some(PausePolicy {
                max_per_year,
                min_days,
                max_days,
                fee_per_period: fee.unwrap_or(Money::zero(currency)),
                extends_commitment: checked(&self.pause_extends_commitment),
                portal_allowed: checked(&self.pause_portal),
            })
        } else {
            None
        };
        let min_commitment_periods = optional_count(
            invalid,
            "min_commitment_periods",
            &self.min_commitment_periods,
            120,
        )
        .unwrap_or(0);
        if min_commitment_periods > 0 && purchase_type.is_some_and(|p| p != PurchaseType::Recurring)
        {
            invalid.push(
                "min_commitment_periods",
                "a minimum commitment counts billing periods: only recurring types have one",
            );
        }
        if pause.is_some() && purchase_type == Some(PurchaseType::Benefit) {
            invalid.push(
                "pause_allowed",
                "a benefit is free: there is nothing to pause",
            );
        }
        let notice_days =
            optional_count(invalid, "notice_days", &self.notice_days, 365).unwrap_or(0);
        let timing = match self.cancel_timing.trim() {
            "" => CancelTiming::AtPeriodEnd,
            text => match CancelTiming::parse(text) {
                Some(timing) => timing,
                None => {
                    invalid.push("cancel_timing", "choose when a cancellation takes effect");
                    return None;
                }
            },
        };
        Some(Policies {
            pause,
            min_commitment_periods,
            notice_days,
            cancellation: CancellationPolicy {
                timing,
                portal_allowed: checked(&self.cancel_portal),
            },
            approval_required: checked(&self.approval_required),
            one_per_member: checked(&self.one_per_member),
        })
    }
}
