//! The card gateway: a trait a real processor implements, and the built-in
//! sandbox whose test card numbers succeed, decline or fail temporarily.
//!
//! A gateway is called outside any database transaction with an idempotency
//! key; asked twice with one key it answers the first answer again and moves
//! money once. That is what lets a payment be retried after a crash.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use domain::Money;
use domain::payments::{ChargeOutcome, SandboxBehaviour};

pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait PaymentGateway: std::fmt::Debug + Send + Sync {
    /// Turns card digits into the token kept on file; the digits are not stored.
    fn tokenize(&self, digits: &str) -> Result<String, String>;
    /// Charges a token; the same key answers the same outcome without charging again.
    fn charge<'a>(
        &'a self,
        token: &'a str,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, ChargeOutcome>;
    /// Sends back part or all of a charge; returns the refund's reference.
    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, Result<String, String>>;
}

/// The sandbox: behaviour by test card number, answers remembered by key.
#[derive(Debug, Default)]
pub struct Sandbox {
    answers: Mutex<HashMap<String, ChargeOutcome>>,
    refunds: Mutex<HashMap<String, String>>,
}

impl PaymentGateway for Sandbox {
    fn tokenize(&self, digits: &str) -> Result<String, String> {
        Ok(SandboxBehaviour::of_number(digits).token().to_string())
    }

    fn charge<'a>(
        &'a self,
        token: &'a str,
        _amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, ChargeOutcome> {
        Box::pin(async move {
            let mut answers = self.answers.lock().expect("sandbox answers");
            let next = answers.len() + 1;
            answers
                .entry(key.to_string())
                .or_insert_with(|| match SandboxBehaviour::from_token(token) {
                    Some(SandboxBehaviour::Succeeds) => ChargeOutcome::Succeeded {
                        reference: format!("sandbox-ch-{next}"),
                    },
                    Some(SandboxBehaviour::Declines) => ChargeOutcome::Declined {
                        reason: "the card was declined".into(),
                    },
                    Some(SandboxBehaviour::InsufficientFunds) => ChargeOutcome::Declined {
                        reason: "insufficient funds".into(),
                    },
                    Some(SandboxBehaviour::FailsTemporarily) => ChargeOutcome::FailedTemporarily {
                        reason: "the card network did not answer; it will be tried again".into(),
                    },
                    None => ChargeOutcome::Declined {
                        reason: "the card on file is not a sandbox card".into(),
                    },
                })
                .clone()
        })
    }

    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        _amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut refunds = self.refunds.lock().expect("sandbox refunds");
            let next = refunds.len() + 1;
            Ok(refunds
                .entry(key.to_string())
                .or_insert_with(|| format!("sandbox-re-{next} of {charge_reference}"))
                .clone())
        })
    }
}
