//! A capturing SMTP server for tests: in-process (tokio), speaks the ESMTP subset lettre uses
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every accepted message raw, and answers
//! RCPT per recipient through a rule, e.g. `451` for the first tries of some addresses or `550`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Decides the RCPT reply for (address, how many RCPTs for it came before): `None` accepts,
/// `Some("451 4.7.1 try later")` refuses with that line.
pub type Rule = Arc<dyn Fn(&str, usize) -> Option<String> + Send + Sync>;

#[derive(Clone, Debug)]
pub struct Captured {
    pub mail_from: String,
    /// The MAIL command's parameters after the address (`BODY=8BITMIME`), upper-cased.
    pub mail_params: String,
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    messages: Vec<Captured>,
    /// When each address was named in a RCPT, accepted or not. A map, not a list: the digest
    /// tests send tens of thousands of messages and count each address's earlier RCPTs.
    rcpts: HashMap<String, Vec<Instant>>,
    /// Addresses with at least one accepted message.
    delivered_to: HashSet<String>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    /// Whether EHLO offers 8BITMIME.
    eight_bit: bool,
    state: Arc<Mutex<State>>,
    rule: Arc<Mutex<Option<Rule>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// A server that offers 8BITMIME, as Postfix and the big providers do.
    pub async fn start() -> SmtpServer {
        Self::start_with(true).await
    }

    /// A server without 8BITMIME: it refuses a body with 8-bit bytes.
    pub async fn start_seven_bit() -> SmtpServer {
        Self::start_with(false).await
    }

    async fn start_with(eight_bit: bool) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP test server");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let rule: Arc<Mutex<Option<Rule>>> = Arc::new(Mutex::new(None));
        let (s, r) = (state.clone(), rule.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (s, r) = (s.clone(), r.clone());
                tokio::spawn(async move {
                    // A client hanging up mid-session is normal (pool idle timeouts, SIGKILL).
                    if let Err(e) = session(stream, s, r, eight_bit).await {
                        eprintln!("smtp test server: session ended: {e}");
                    }
                });
            }
        });
        SmtpServer {
            addr,
            eight_bit,
            state,
            rule,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn offers_eight_bit(&self) -> bool {
        self.eight_bit
    }

    pub fn set_rule(&self, rule: impl Fn(&str, usize) -> Option<String> + Send + Sync + 'static) {
        *self.rule.lock().unwrap() = Some(Arc::new(rule));
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.state.lock().unwrap().messages.clone()
    }

    /// Forgets what was captured so far (after a warm-up message, say).
    pub fn clear(&self) {
        let mut state = self.state.lock().unwrap();
        state.messages.clear();
        state.rcpts.clear();
        state.delivered_to.clear();
    }

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().messages.len()
    }

    /// How many distinct addresses received at least one message.
    pub fn recipient_count(&self) -> usize {
        self.state.lock().unwrap().delivered_to.len()
    }

    /// When each RCPT for `address` arrived.
    pub fn rcpt_times(&self, address: &str) -> Vec<Instant> {
        self.state
            .lock()
            .unwrap()
            .rcpts
            .get(address)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `n` distinct addresses received a message or `timeout` passes.
    pub async fn wait_for_recipients(&self, timeout: std::time::Duration, n: usize) -> bool {
        let deadline = Instant::now() + timeout;
        while self.recipient_count() < n {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }

    /// Waits until `pred` holds over the captured messages or `timeout` passes.
    pub async fn wait_for(
        &self,
        timeout: std::time::Duration,
        pred: impl Fn(&[Captured]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.state.lock().unwrap().messages) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

fn address_of(arg: &str) -> String {
    let arg = arg.trim();
    let inner = match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if b > a => &arg[a + 1..b],
        _ => arg.split_whitespace().next().unwrap_or(""),
    };
    inner.to_lowercase()
}

async fn session(
    stream: TcpStream,
    state: Arc<Mutex<State>>,
    rule: Arc<Mutex<Option<Rule>>>,
    eight_bit: bool,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 birgemiz-test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut params = String::new();
    let mut rcpts: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            if eight_bit {
                "250-birgemiz-test\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
            } else {
                "250-birgemiz-test\r\n250 SMTPUTF8".into()
            }
        } else if upper.starts_with("HELO") {
            "250 birgemiz-test".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = address_of(&cmd[10..]);
            params = cmd[10..]
                .rsplit_once('>')
                .map(|(_, rest)| rest.trim().to_ascii_uppercase())
                .unwrap_or_default();
            rcpts.clear();
            "250 2.1.0 Ok".into()
        } else if upper.starts_with("RCPT TO:") {
            let addr = address_of(&cmd[8..]);
            let prior = {
                let mut st = state.lock().unwrap();
                let times = st.rcpts.entry(addr.clone()).or_default();
                times.push(Instant::now());
                times.len() - 1
            };
            let decided = rule.lock().unwrap().clone().and_then(|r| r(&addr, prior));
            match decided {
                Some(refusal) => refusal,
                None => {
                    rcpts.push(addr);
                    "250 2.1.5 Ok".into()
                }
            }
        } else if upper == "DATA" {
            if rcpts.is_empty() {
                "554 5.5.1 No valid recipients".into()
            } else {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut raw = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if read.read_until(b'\n', &mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    let l = if l.starts_with(b"..") {
                        &l[1..]
                    } else {
                        &l[..]
                    };
                    raw.extend_from_slice(l);
                }
                // RFC 6152: 8-bit bytes only where offered and declared with BODY=8BITMIME.
                let declared_8bit = eight_bit && params.contains("BODY=8BITMIME");
                if !declared_8bit && !raw.is_ascii() {
                    rcpts.clear();
                    "554 5.6.1 8-bit data not accepted".into()
                } else {
                    let n = {
                        let mut st = state.lock().unwrap();
                        st.delivered_to.extend(rcpts.iter().cloned());
                        st.messages.push(Captured {
                            mail_from: from.clone(),
                            mail_params: params.clone(),
                            rcpt_to: std::mem::take(&mut rcpts),
                            raw,
                            at: Instant::now(),
                        });
                        st.messages.len()
                    };
                    format!("250 2.0.0 Ok: queued as {n}")
                }
            }
        } else if upper == "RSET" {
            rcpts.clear();
            "250 2.0.0 Ok".into()
        } else if upper.starts_with("NOOP") {
            "250 2.0.0 Ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognized".into()
        };
        // One write per reply: with a separate write for the line ending, Nagle's algorithm
        // holds the CRLF until the client's delayed ACK (40 ms), once per SMTP command.
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}
