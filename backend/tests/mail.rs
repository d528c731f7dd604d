//! Sending the mail outbox by SMTP, against a small SMTP server run by the
//! test, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use backend::platform::mail::{self, Mailer, SendReport};
use backend::testing::each_db;
use backend::{Services, payments, portal, query};
use chrono::TimeDelta;
use support::{Club, club, later, member_with_email};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP server that keeps what it is sent; while `refuse` is set it
/// answers every recipient with a temporary failure.
#[derive(Clone, Default)]
struct FakeSmtp {
    received: Arc<Mutex<Vec<String>>>,
    refuse: Arc<AtomicBool>,
}

impl FakeSmtp {
    async fn start() -> (FakeSmtp, u16) {
        let fake = FakeSmtp::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let server = server.clone();
                tokio::spawn(async move { server.session(socket).await });
            }
        });
        (fake, port)
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut envelope = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 fake\r\n",
                "MAIL" | "RSET" | "NOOP" => {
                    envelope.clear();
                    b"250 OK\r\n"
                }
                "RCPT" if self.refuse.load(Ordering::SeqCst) => b"451 mailbox busy, try later\r\n",
                "RCPT" => {
                    envelope.push_str(&line);
                    envelope.push('\n');
                    b"250 OK\r\n"
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await.unwrap();
                    let mut data = envelope.clone();
                    while let Ok(Some(l)) = lines.next_line().await {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    self.received.lock().unwrap().push(data);
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"502 not here\r\n",
            };
            write.write_all(answer).await.unwrap();
        }
    }

    /// The server and a mailer that sends to it as noreply@club.example.
    async fn with_mailer() -> (FakeSmtp, Mailer) {
        let (fake, port) = FakeSmtp::start().await;
        let mailer =
            Mailer::new(&format!("smtp://127.0.0.1:{port}"), "noreply@club.example").unwrap();
        (fake, mailer)
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// (attempts, sent, last error) of the newest message to `email`.
async fn state_of(s: &Services, email: &str) -> (i64, bool, Option<String>) {
    let mut tx = s.db.begin_read().await.unwrap();
    let (attempts, sent, error) = query!(
        &mut tx,
        fetch_one as (i64, Option<chrono::DateTime<chrono::Utc>>, Option<String>),
        "SELECT attempts, sent_at, last_error FROM outbox WHERE to_address = $1 ORDER BY id DESC LIMIT 1",
        email
    )
    .unwrap();
    tx.commit().await.unwrap();
    (attempts, sent.is_some(), error)
}

async fn delivery_of(c: &Club, email: &str) -> String {
    payments::outbox(&c.s, &c.owner, "")
        .await
        .unwrap()
        .rows
        .into_iter()
        .find(|m| m.to == email)
        .expect("the message is in the outbox")
        .delivery
}

#[tokio::test]
async fn the_outbox_is_sent_by_smtp_once_and_a_failure_is_tried_again_later() {
    each_db(|db| async move {
        let c = club(db).await;
        let (smtp, mailer) = FakeSmtp::with_mailer().await;
        member_with_email(&c, "Ana", "ana@example.com").await;
        portal::request_code(&c.s, "ana@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        assert_eq!(delivery_of(&c, "ana@example.com").await, "waiting");

        // Ada (no address on file) has mail from her sale: it is not sent.
        let report = mail::send_waiting(&c.s, &mailer, 50).await.unwrap();
        assert_eq!(report, SendReport { sent: 1, failed: 0 });
        let got = smtp.received();
        assert_eq!(got.len(), 1);
        let message = &got[0];
        assert!(message.contains("RCPT TO:<ana@example.com>"), "{message}");
        assert!(
            message.contains("From: Club <noreply@club.example>"),
            "{message}"
        );
        assert!(message.contains("To: ana@example.com"), "{message}");
        let subject = message
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .expect("a subject");
        let code = subject.rsplit(' ').next().unwrap();
        assert_eq!(code.len(), 6, "the code is in the subject: {subject}");
        assert!(message.contains(code));
        let (attempts, sent, _) = state_of(&c.s, "ana@example.com").await;
        assert_eq!((attempts, sent), (1, true));
        assert!(
            delivery_of(&c, "ana@example.com")
                .await
                .starts_with("sent 2026-11-22 ")
        );
        let no_address = payments::outbox(&c.s, &c.owner, "")
            .await
            .unwrap()
            .rows
            .into_iter()
            .find(|m| m.to.is_empty())
            .expect("Ada's sale mailed her, with no address");
        assert_eq!(no_address.delivery, "not sent: no email address on file");

        // Sending again sends nothing twice.
        let again = mail::send_waiting(&c.s, &mailer, 50).await.unwrap();
        assert_eq!(again, SendReport::default());
        assert_eq!(smtp.received().len(), 1);

        // The server refuses: counted, kept with its error, not tried before its time.
        member_with_email(&c, "Ben", "ben@example.com").await;
        portal::request_code(&c.s, "ben@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        smtp.refuse.store(true, Ordering::SeqCst);
        let refused = mail::send_waiting(&c.s, &mailer, 50).await.unwrap();
        assert_eq!(refused, SendReport { sent: 0, failed: 1 });
        let (attempts, sent, error) = state_of(&c.s, "ben@example.com").await;
        assert_eq!((attempts, sent), (1, false));
        assert!(
            error.as_deref().unwrap_or("").contains("mailbox busy"),
            "{error:?}"
        );
        let delivery = delivery_of(&c, "ben@example.com").await;
        assert!(
            delivery.starts_with("not sent yet (1 failed try: ")
                && delivery.ends_with("next try 2026-11-22 10:01"),
            "{delivery}"
        );
        smtp.refuse.store(false, Ordering::SeqCst);
        let too_soon = mail::send_waiting(&later(&c.s, TimeDelta::seconds(30)), &mailer, 50)
            .await
            .unwrap();
        assert_eq!(too_soon, SendReport::default());
        let retried = mail::send_waiting(&later(&c.s, TimeDelta::minutes(1)), &mailer, 50)
            .await
            .unwrap();
        assert_eq!(retried, SendReport { sent: 1, failed: 0 });
        assert_eq!(state_of(&c.s, "ben@example.com").await.0, 2);
        let got = smtp.received();
        assert_eq!(got.len(), 2);
        assert!(got[1].contains("RCPT TO:<ben@example.com>"));

        // After eight failed tries a message is left for staff to see.
        member_with_email(&c, "Cy", "cy@example.com").await;
        portal::request_code(&c.s, "cy@example.com", "10.0.0.1", "")
            .await
            .unwrap();
        smtp.refuse.store(true, Ordering::SeqCst);
        let mut at = c.s.clone();
        for _ in 0..mail::MAX_ATTEMPTS {
            let r = mail::send_waiting(&at, &mailer, 50).await.unwrap();
            assert_eq!(r, SendReport { sent: 0, failed: 1 });
            at = later(&at, TimeDelta::hours(2));
        }
        smtp.refuse.store(false, Ordering::SeqCst);
        let given_up = mail::send_waiting(&at, &mailer, 50).await.unwrap();
        assert_eq!(given_up, SendReport::default());
        let delivery = delivery_of(&c, "cy@example.com").await;
        assert!(
            delivery.starts_with("not sent after 8 tries: "),
            "{delivery}"
        );
    })
    .await;
}

#[tokio::test]
async fn two_senders_at_once_send_each_message_once() {
    each_db(|db| async move {
        let c = club(db).await;
        let (smtp, mailer) = FakeSmtp::with_mailer().await;
        for i in 0..6 {
            let email = format!("m{i}@example.com");
            member_with_email(&c, &format!("M{i}"), &email).await;
            portal::request_code(&c.s, &email, "10.0.0.1", "")
                .await
                .unwrap();
        }
        let (a, b) = tokio::join!(
            mail::send_waiting(&c.s, &mailer, 50),
            mail::send_waiting(&c.s, &mailer, 50)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sent + b.sent, 6, "{a:?} {b:?}");
        assert_eq!(a.failed + b.failed, 0);
        let mut to: Vec<String> = smtp
            .received()
            .iter()
            .filter_map(|m| {
                m.lines()
                    .find(|l| l.starts_with("RCPT TO:"))
                    .map(str::to_string)
            })
            .collect();
        to.sort();
        to.dedup();
        assert_eq!(to.len(), 6, "each once: {to:?}");
        assert_eq!(smtp.received().len(), 6);
    })
    .await;
}

#[test]
fn a_bad_smtp_address_or_sender_is_a_clear_message() {
    let bad_url = Mailer::new("mail.example:25", "noreply@club.example").unwrap_err();
    assert!(
        bad_url
            .to_string()
            .contains("TESSERA_SMTP_URL is not an SMTP address"),
        "{bad_url}"
    );
    let bad_from = Mailer::new("smtp://127.0.0.1:25", "not an address").unwrap_err();
    assert!(
        bad_from.to_string().contains("TESSERA_MAIL_FROM"),
        "{bad_from}"
    );
}

#[tokio::test]
async fn the_outbox_pages_through_every_message_newest_first() {
    each_db(|db| async move {
        let c = club(db).await;
        let before = payments::outbox(&c.s, &c.owner, "").await.unwrap().total;
        let mut tx = c.s.db.begin_write().await.unwrap();
        for i in 0..120 {
            query!(
                &mut tx,
                execute,
                "INSERT INTO outbox (business_id, to_address, subject, body, kind, created_at)
                 VALUES ($1, $2, $3, 'Hello', 'notice', $4)",
                c.owner.business_id,
                format!("m{i}@example.com"),
                format!("Notice {i}"),
                c.s.clock.now()
            )
            .unwrap();
        }
        tx.commit().await.unwrap();
        let first = payments::outbox(&c.s, &c.owner, "").await.unwrap();
        assert_eq!(first.total, before + 120);
        assert_eq!(first.rows.len(), 100);
        assert_eq!(first.rows[0].to, "m119@example.com", "the newest first");
        let second = payments::outbox(&c.s, &c.owner, "2").await.unwrap();
        assert_eq!(second.rows.len() as i64, before + 20);
        let mut ids: Vec<i64> = first
            .rows
            .iter()
            .chain(&second.rows)
            .map(|m| m.id)
            .collect();
        ids.dedup();
        assert_eq!(ids.len() as i64, first.total, "each message once");
        assert!(ids.windows(2).all(|w| w[0] > w[1]));
        let beyond = payments::outbox(&c.s, &c.owner, "3").await.unwrap();
        assert!(beyond.rows.is_empty());
    })
    .await;
}
