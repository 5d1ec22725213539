//! Where session logs live: behind [`SessionStore`], so that they can live outside the
//! process; [`MemoryStore`] keeps them in it.
//!
//! A log is what a stream's readers share: its events in order (event `n` is the `n`th
//! event the provider sent, whatever frames it encodes to), whether it is complete, and
//! its cancel flag. The generation that fills a log runs on one server; its readers may
//! be anywhere the store reaches.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use bytes::Bytes;
use prometheus_client::metrics::gauge::Gauge;
use rill_core::{Error, StreamEvent};
use rill_wire::{Answer, ClientDialect, Dialect, EventEncoder};

/// Makes a fresh encoder of a stream's dialect, for each reader.
pub type EncoderFactory = Arc<dyn Fn() -> Box<dyn EventEncoder> + Send + Sync>;

/// The encoder factory of `D`'s streams of `answer`, for requests that asked `options`.
pub fn encoder_factory<D: ClientDialect>(answer: Answer, options: D::Options) -> EncoderFactory {
    Arc::new(move || Box::new(D::encoder(&answer, &options)) as Box<dyn EventEncoder>)
}

/// What another server needs to make the stream's encoder again: the answer's model and
/// time, and the request's body (its dialect's options are parsed from it once more).
#[derive(Clone)]
pub struct Origin {
    pub model: String,
    pub created: u64,
    pub body: Bytes,
}

/// What a log is opened with: everything a reader needs besides its events.
pub struct Meta {
    /// The response id the client saw (`chatcmpl-...`, `msg_...`, `resp_...`).
    pub id: String,
    pub dialect: Dialect,
    /// The name of the key that started the stream, the only one that may resume or
    /// cancel it (`None` when no keys are configured).
    pub owner: Option<String>,
    pub encoder: EncoderFactory,
    /// Headers every response of the stream carries besides the SSE ones.
    pub headers: &'static [(&'static str, &'static str)],
    /// Where the encoder comes from, for a log other servers read too.
    pub origin: Option<Origin>,
}

/// Whether a log is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    /// The generation ended (finished, failed, cancelled or aborted): nothing more comes.
    Done,
}

/// One stream's log.
pub trait SessionLog: Send + Sync + 'static {
    fn meta(&self) -> &Meta;
    /// Appends the generation's next event.
    fn append(&self, event: StreamEvent);
    /// Hands the events from number `from` on to `each` and says how many there were and
    /// whether the log is complete. When there were none and it is not, `follow` (if
    /// given) is woken at the log's next change: that is how readers follow it live.
    fn read(
        &self,
        from: usize,
        each: &mut dyn FnMut(&StreamEvent),
        follow: Option<&Waker>,
    ) -> (usize, Status);
    /// Completes the log, with the error that ended the generation if one did. Returns
    /// whether this call completed it (a second one changes nothing).
    fn finish(&self, outcome: Option<Error>) -> bool;
    fn status(&self) -> Status;
    /// Raises the cancel flag; returns whether the log was still running.
    fn cancel(&self) -> bool;
    fn is_cancelled(&self) -> bool;
}

/// What a store knows of a stream id.
pub enum Found {
    Live(Arc<dyn SessionLog>),
    /// Its replay window passed. The owner is kept, so that only the key that started the
    /// stream learns that it existed.
    Gone {
        dialect: Dialect,
        owner: Option<String>,
    },
    Unknown,
}

/// Where logs live, by stream id.
pub trait SessionStore: Send + Sync + 'static {
    /// A new, running log.
    fn open(&self, meta: Meta) -> Arc<dyn SessionLog>;
    fn find(&self, id: &str) -> Found;
    /// The log `id` is complete: from now on it counts toward the store's bound on
    /// finished logs, the oldest of which go first.
    fn finished(&self, id: &str);
    /// Forgets log `id` (its replay window passed), keeping what a 410 needs.
    fn expire(&self, id: &str);
}

/// How many expired ids are remembered (to answer 410 rather than 404); the oldest are
/// forgotten first. About 100 bytes each.
const GONE_CAPACITY: usize = 100_000;

/// Logs in this process's memory, bounded in count and in bytes.
pub struct MemoryStore {
    max_finished: usize,
    max_bytes: u64,
    /// The bytes every log holds, shared with the logs (each adds its own appends).
    held: Gauge,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, Arc<MemoryLog>>,
    /// Finished logs still held, oldest first (some may have expired already).
    finished: VecDeque<String>,
    gone: HashMap<String, (Dialect, Option<String>)>,
    gone_order: VecDeque<String>,
}

impl MemoryStore {
    /// A store that keeps at most `max_finished` finished logs and, of finished logs,
    /// only as many as keep the total under `max_bytes`; `held` reports the total.
    pub fn new(max_finished: usize, max_bytes: u64, held: Gauge) -> Self {
        Self {
            max_finished,
            max_bytes,
            held,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn held(&self) -> u64 {
        u64::try_from(self.held.get()).unwrap_or(0)
    }

    fn expire_locked(&self, inner: &mut Inner, id: &str) {
        let Some(log) = inner.live.remove(id) else {
            return;
        };
        let bytes = log.lock().bytes;
        self.held.dec_by(i64::try_from(bytes).unwrap_or(i64::MAX));
        let meta = &log.meta;
        inner
            .gone
            .insert(id.to_owned(), (meta.dialect, meta.owner.clone()));
        inner.gone_order.push_back(id.to_owned());
        while inner.gone_order.len() > GONE_CAPACITY {
            if let Some(old) = inner.gone_order.pop_front() {
                inner.gone.remove(&old);
            }
        }
    }
}

impl SessionStore for MemoryStore {
    fn open(&self, meta: Meta) -> Arc<dyn SessionLog> {
        let id = meta.id.clone();
        let log = Arc::new(MemoryLog {
            meta,
            held: self.held.clone(),
            cancelled: AtomicBool::new(false),
            state: Mutex::new(LogState::default()),
        });
        self.lock().live.insert(id, Arc::clone(&log));
        log
    }

    fn find(&self, id: &str) -> Found {
        let inner = self.lock();
        if let Some(log) = inner.live.get(id) {
            return Found::Live(Arc::clone(log) as Arc<dyn SessionLog>);
        }
        match inner.gone.get(id) {
            Some((dialect, owner)) => Found::Gone {
                dialect: *dialect,
                owner: owner.clone(),
            },
            None => Found::Unknown,
        }
    }

    fn finished(&self, id: &str) {
        let mut inner = self.lock();
        inner.finished.push_back(id.to_owned());
        while inner.finished.len() > self.max_finished || self.held() > self.max_bytes {
            let Some(old) = inner.finished.pop_front() else {
                break;
            };
            self.expire_locked(&mut inner, &old);
        }
    }

    fn expire(&self, id: &str) {
        let mut inner = self.lock();
        // Expiry goes in finishing order (the replay window is the same for all), so the
        // id is at the front unless the bounds took it already.
        if inner.finished.front().is_some_and(|f| f == id) {
            inner.finished.pop_front();
        } else if let Some(at) = inner.finished.iter().position(|f| f == id) {
            inner.finished.remove(at);
        }
        self.expire_locked(&mut inner, id);
    }
}

/// A log outside every store: a flight's, which lives as long as its readers, or a copy
/// of another server's.
pub(crate) fn detached(meta: Meta) -> Arc<dyn SessionLog> {
    Arc::new(MemoryLog {
        meta,
        held: Gauge::default(),
        cancelled: AtomicBool::new(false),
        state: Mutex::new(LogState::default()),
    })
}

struct MemoryLog {
    meta: Meta,
    held: Gauge,
    cancelled: AtomicBool,
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    events: Vec<Kept>,
    done: bool,
    bytes: u64,
    /// Readers to wake at the next change.
    followers: Vec<Waker>,
}

impl MemoryLog {
    fn lock(&self) -> MutexGuard<'_, LogState> {
        // The log is only pushed to; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends under the lock and wakes the followers after it.
    fn push(&self, event: StreamEvent) {
        let event = Kept::new(event);
        let bytes = event.bytes();
        let followers = {
            let mut state = self.lock();
            state.events.push(event);
            state.bytes += bytes;
            std::mem::take(&mut state.followers)
        };
        self.held.inc_by(i64::try_from(bytes).unwrap_or(i64::MAX));
        followers.into_iter().for_each(Waker::wake);
    }
}

impl SessionLog for MemoryLog {
    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn append(&self, event: StreamEvent) {
        self.push(event);
    }

    fn read(
        &self,
        from: usize,
        each: &mut dyn FnMut(&StreamEvent),
        follow: Option<&Waker>,
    ) -> (usize, Status) {
        // Read under the lock (only this log's writer and readers ever wait on it), so
        // the events need not be copied.
        let mut state = self.lock();
        let events = state.events.get(from..).unwrap_or_default();
        events.iter().for_each(|event| event.with(&mut *each));
        let read = events.len();
        let status = if state.done {
            Status::Done
        } else {
            Status::Running
        };
        if let (0, Status::Running, Some(waker)) = (read, status, follow)
            && !state.followers.iter().any(|w| w.will_wake(waker))
        {
            state.followers.push(waker.clone());
        }
        (read, status)
    }

    fn finish(&self, outcome: Option<Error>) -> bool {
        let followers = {
            let mut state = self.lock();
            if state.done {
                return false;
            }
            if let Some(error) = outcome {
                let event = Kept::new(StreamEvent::Error(error));
                let bytes = event.bytes();
                state.events.push(event);
                state.bytes += bytes;
                self.held.inc_by(i64::try_from(bytes).unwrap_or(i64::MAX));
            }
            state.done = true;
            std::mem::take(&mut state.followers)
        };
        followers.into_iter().for_each(Waker::wake);
        true
    }

    fn status(&self) -> Status {
        if self.lock().done {
            Status::Done
        } else {
            Status::Running
        }
    }

    fn cancel(&self) -> bool {
        self.cancelled.store(true, Ordering::SeqCst);
        self.status() == Status::Running
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// An event as a log keeps it. Almost every event of an answer is a piece of text, and a
/// log keeps every one for the replay window: as bare text they take 24 bytes and the
/// text, where a `StreamEvent` takes 96 and the text's `String`. Readers get a
/// `StreamEvent` back, made for the moment they look at it.
enum Kept {
    Text(Box<str>),
    Reasoning(Box<str>),
    Other(Box<StreamEvent>),
}

impl Kept {
    fn new(event: StreamEvent) -> Self {
        match event {
            StreamEvent::TextDelta(text) => Self::Text(text.into_boxed_str()),
            StreamEvent::ReasoningDelta(text) => Self::Reasoning(text.into_boxed_str()),
            other => Self::Other(Box::new(other)),
        }
    }

    fn with(&self, each: &mut dyn FnMut(&StreamEvent)) {
        match self {
            Self::Text(text) => each(&StreamEvent::TextDelta(String::from(&**text))),
            Self::Reasoning(text) => each(&StreamEvent::ReasoningDelta(String::from(&**text))),
            Self::Other(event) => each(event),
        }
    }

    /// What it takes, roughly: itself, and what it owns on the heap.
    fn bytes(&self) -> u64 {
        let owned = match self {
            Self::Text(text) | Self::Reasoning(text) => text.len(),
            Self::Other(event) => std::mem::size_of::<StreamEvent>() + event_text(event),
        };
        (std::mem::size_of::<Self>() + owned) as u64
    }
}

/// The text an event owns.
pub(crate) fn event_text(event: &StreamEvent) -> usize {
    match event {
        StreamEvent::Start { model } => model.len(),
        StreamEvent::TextDelta(text)
        | StreamEvent::ReasoningDelta(text)
        | StreamEvent::ReasoningSignature(text)
        | StreamEvent::ReasoningRedacted(text)
        | StreamEvent::RefusalDelta(text) => text.len(),
        StreamEvent::ToolCallStart { id, name, .. } => id.len() + name.len(),
        StreamEvent::ToolCallDelta { arguments, .. } => arguments.len(),
        StreamEvent::Error(error) => error.message.len(),
        StreamEvent::ToolCallEnd { .. } | StreamEvent::Usage(_) | StreamEvent::Finish(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> Meta {
        Meta {
            id: id.to_owned(),
            dialect: <rill_wire::OpenAiChat as rill_wire::ClientDialect>::DIALECT,
            owner: Some("alice".to_owned()),
            encoder: Arc::new(|| unreachable!("no reader in these tests")),
            headers: &[],
            origin: None,
        }
    }

    fn fill(store: &MemoryStore, id: &str, words: usize) {
        let log = store.open(meta(id));
        for _ in 0..words {
            log.append(StreamEvent::TextDelta("word ".to_owned()));
        }
        log.finish(None);
        store.finished(id);
    }

    #[test]
    fn finished_logs_stay_under_the_byte_bound_oldest_first() {
        let store = MemoryStore::new(usize::MAX, 1_000_000, Gauge::default());
        let one = Kept::new(StreamEvent::TextDelta("word ".to_owned())).bytes();
        for n in 0..100 {
            fill(&store, &format!("s{n}"), 1_000);
            assert!(store.held() <= 1_000_000, "{} bytes held", store.held());
        }
        let per_log = one * 1_000;
        let kept = (0..100)
            .filter(|n| matches!(store.find(&format!("s{n}")), Found::Live(_)))
            .count() as u64;
        assert_eq!(kept, 1_000_000 / per_log, "{per_log} bytes a log");
        assert!(matches!(store.find("s0"), Found::Gone { .. }));
        assert!(matches!(store.find("s99"), Found::Live(_)));
    }

    #[test]
    fn a_running_log_is_never_evicted_and_expiry_keeps_the_owner() {
        let store = MemoryStore::new(0, 0, Gauge::default());
        let running = store.open(meta("running"));
        running.append(StreamEvent::TextDelta("x".repeat(1000)));
        fill(&store, "done", 10);
        assert!(matches!(store.find("running"), Found::Live(_)));
        match store.find("done") {
            Found::Gone { owner, .. } => assert_eq!(owner.as_deref(), Some("alice")),
            _ => panic!("a finished log over the bound is gone"),
        }
        store.expire("running");
        assert!(matches!(store.find("nothing"), Found::Unknown));
        assert_eq!(store.held(), 0);
    }

    #[test]
    fn a_follower_is_woken_by_the_next_change_only_when_caught_up() {
        let store = MemoryStore::new(10, u64::MAX, Gauge::default());
        let log = store.open(meta("s"));
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waker = waker_counting(Arc::clone(&woken));
        assert_eq!(log.read(0, &mut |_| {}, Some(&waker)), (0, Status::Running));
        log.append(StreamEvent::TextDelta("a".to_owned()));
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        let mut seen = 0;
        assert_eq!(
            log.read(0, &mut |_| seen += 1, Some(&waker)),
            (1, Status::Running)
        );
        assert_eq!(seen, 1);
        log.append(StreamEvent::TextDelta("b".to_owned()));
        assert_eq!(woken.load(Ordering::SeqCst), 1, "not following: not woken");
        assert_eq!(log.read(2, &mut |_| {}, Some(&waker)), (0, Status::Running));
        assert!(log.finish(None));
        assert!(!log.finish(None));
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_log_gives_back_every_event_as_it_was_appended_in_a_quarter_of_the_space() {
        let store = MemoryStore::new(10, u64::MAX, Gauge::default());
        let log = store.open(meta("s"));
        let events = vec![
            StreamEvent::Start {
                model: "m".to_owned(),
            },
            StreamEvent::ReasoningDelta("think".to_owned()),
            StreamEvent::TextDelta("word ".to_owned()),
            StreamEvent::TextDelta(String::new()),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "c".to_owned(),
                name: "f".to_owned(),
            },
            StreamEvent::Finish(rill_core::FinishReason::Stop),
        ];
        for event in events.clone() {
            log.append(event);
        }
        let mut read = Vec::new();
        assert_eq!(
            log.read(0, &mut |e| read.push(e.clone()), None),
            (6, Status::Running)
        );
        assert_eq!(read, events);
        let text = Kept::new(StreamEvent::TextDelta("word ".to_owned())).bytes();
        let whole = (std::mem::size_of::<StreamEvent>() + 32) as u64;
        assert!(
            text * 4 <= whole + 8,
            "{text} bytes for a word, {whole} as an event"
        );
    }

    fn waker_counting(count: Arc<std::sync::atomic::AtomicUsize>) -> Waker {
        struct Count(Arc<std::sync::atomic::AtomicUsize>);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        Waker::from(Arc::new(Count(count)))
    }
}
