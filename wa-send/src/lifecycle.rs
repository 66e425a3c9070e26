//! The lifecycle of a queued message: statuses, monotonic transitions and a timeline.
//!
//! ```text
//! scheduled ─┐
//!            ├─> processing ─┬─> sent ─> delivered ─> read
//! queued ────┘      ↑   │    │     └──────────────────┘ (delivered may be skipped)
//!                   └─ retrying  └─> failed
//! queued / scheduled ─> cancelled
//! ```
//!
//! Provider statuses arrive by webhook, unordered and duplicated (facts §4.2): a transition
//! is applied only when it moves the message forward, so a late `delivered` never
//! overwrites `read`, and a repeated status is a no-op.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::webhook::meta::MessageStatus;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// Waiting for its `send_at`.
    Scheduled,
    /// Claimed by a worker, being sent.
    Processing,
    /// A send failed transiently; waiting for the next attempt.
    Retrying,
    /// Accepted by the provider.
    Sent,
    /// Reached the device.
    Delivered,
    /// Read.
    Read,
    /// Failed for good.
    Failed,
    /// Cancelled before it was sent.
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 9] = [
        Status::Queued,
        Status::Scheduled,
        Status::Processing,
        Status::Retrying,
        Status::Sent,
        Status::Delivered,
        Status::Read,
        Status::Failed,
        Status::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Scheduled => "scheduled",
            Status::Processing => "processing",
            Status::Retrying => "retrying",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No transition leaves this status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Read | Status::Failed | Status::Cancelled)
    }

    /// The provider has accepted the message.
    pub fn is_sent(self) -> bool {
        matches!(self, Status::Sent | Status::Delivered | Status::Read)
    }

    /// The lifecycle status a provider status moves to, if any (`played` counts as read;
    /// `deleted` and unknown statuses do not move the lifecycle).
    pub fn from_provider(status: MessageStatus) -> Option<Status> {
        match status {
            MessageStatus::Sent => Some(Status::Sent),
            MessageStatus::Delivered => Some(Status::Delivered),
            MessageStatus::Read | MessageStatus::Played => Some(Status::Read),
            MessageStatus::Failed => Some(Status::Failed),
            _ => None,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Status::Queued | Status::Scheduled => 0,
            Status::Processing | Status::Retrying => 1,
            Status::Sent => 2,
            Status::Delivered => 3,
            Status::Read | Status::Failed | Status::Cancelled => 4,
        }
    }

    /// Whether `self → to` is allowed.
    ///
    /// # Examples
    /// ```
    /// use wa_send::Status;
    ///
    /// assert!(Status::Sent.can_become(Status::Read)); // delivered may be skipped
    /// assert!(!Status::Read.can_become(Status::Delivered)); // late webhooks never go back
    /// assert!(Status::Scheduled.can_become(Status::Cancelled));
    /// assert!(!Status::Sent.can_become(Status::Cancelled));
    /// ```
    pub fn can_become(self, to: Status) -> bool {
        if self == to || self.is_terminal() {
            return false;
        }
        match to {
            Status::Queued => self == Status::Scheduled,
            Status::Scheduled => false,
            Status::Cancelled => matches!(self, Status::Queued | Status::Scheduled),
            // A worker claims due messages, and claims again after a retry. (A re-claim after
            // an expired lease keeps `processing`: no transition.)
            Status::Processing => {
                matches!(self, Status::Queued | Status::Scheduled | Status::Retrying)
            }
            Status::Retrying => self == Status::Processing,
            // Failure after `sent` comes from a provider webhook; after delivery it cannot.
            Status::Failed => self.rank() <= Status::Sent.rank(),
            Status::Sent | Status::Delivered | Status::Read => to.rank() > self.rank(),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a message's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct TimelineEntry {
    /// The status reached.
    pub status: Status,
    /// When (RFC 3339 UTC).
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// A message's status, timeline and last error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Lifecycle {
    /// The current status.
    pub status: Status,
    /// Every status reached, in order; times never go backwards, and `sent` is always
    /// listed before `delivered` and `read`.
    pub timeline: Vec<TimelineEntry>,
    /// The stable code of the last failure: a `delivery_*` code (Meta's failed statuses are
    /// classified the same way), a `message_*` code, or `backend_unavailable` when the account
    /// has no delivery backend. Cleared once the message is sent.
    pub error_code: Option<String>,
    /// The human message of the last failure.
    pub error_message: Option<String>,
}

impl Lifecycle {
    /// A lifecycle starting at `status` (`Queued` or `Scheduled`) at `at`.
    pub fn new(status: Status, at: Timestamp) -> Self {
        Lifecycle {
            status,
            timeline: vec![TimelineEntry { status, at }],
            error_code: None,
            error_message: None,
        }
    }

    fn push(&mut self, status: Status, at: Timestamp) {
        // Provider timestamps have whole seconds and clocks differ: never go back in time.
        let at = self.timeline.last().map_or(at, |last| at.max(last.at));
        self.timeline.push(TimelineEntry { status, at });
    }

    /// Moves to `to` if [`Status::can_become`] allows; returns whether it moved.
    ///
    /// Reaching `delivered` or `read` before `sent` was recorded (a webhook can beat the
    /// worker) records the implied `sent` first; reaching a sent status clears the last error.
    ///
    /// # Examples
    /// ```
    /// use wa_send::{Lifecycle, Status, Timestamp};
    /// let mut l = Lifecycle::new(Status::Queued, Timestamp::from_secs(1));
    /// assert!(l.advance(Status::Processing, Timestamp::from_secs(2)));
    /// assert!(l.advance(Status::Delivered, Timestamp::from_secs(1)));
    /// let steps: Vec<_> = l.timeline.iter().map(|t| (t.status, t.at.as_secs())).collect();
    /// assert_eq!(steps, [(Status::Queued, 1), (Status::Processing, 2), (Status::Sent, 2), (Status::Delivered, 2)]);
    /// // A `read` that overtakes `delivered` implies it too.
    /// let mut l = Lifecycle::new(Status::Queued, Timestamp::from_secs(1));
    /// assert!(l.advance(Status::Read, Timestamp::from_secs(3)));
    /// let steps: Vec<_> = l.timeline.iter().map(|t| t.status.as_str()).collect();
    /// assert_eq!(steps, ["queued", "sent", "delivered", "read"]);
    /// ```
    pub fn advance(&mut self, to: Status, at: Timestamp) -> bool {
        if !self.status.can_become(to) {
            return false;
        }
        // Meta's statuses can arrive out of order; a later one implies the earlier steps.
        if matches!(to, Status::Delivered | Status::Read) && !self.status.is_sent() {
            self.push(Status::Sent, at);
        }
        if to == Status::Read && self.reached(Status::Delivered).is_none() {
            self.push(Status::Delivered, at);
        }
        if to.is_sent() {
            self.error_code = None;
            self.error_message = None;
        }
        self.status = to;
        // A retry loop (processing ↔ retrying) adds one entry per attempt.
        self.push(to, at);
        true
    }

    /// Moves to `Failed` or `Retrying` with the error recorded; returns whether it moved.
    pub fn fail(&mut self, to: Status, at: Timestamp, code: &str, message: &str) -> bool {
        let moved = self.advance(to, at);
        if moved {
            self.error_code = Some(code.to_owned());
            self.error_message = Some(message.to_owned());
        }
        moved
    }

    /// Puts a `failed` message back in the queue (an explicit retry by its owner); returns
    /// whether it was failed. The last error stays until the next attempt.
    pub fn requeue(&mut self, at: Timestamp) -> bool {
        if self.status != Status::Failed {
            return false;
        }
        self.status = Status::Queued;
        self.push(Status::Queued, at);
        true
    }

    /// When `status` was first reached.
    pub fn reached(&self, status: Status) -> Option<Timestamp> {
        self.timeline
            .iter()
            .find(|t| t.status == status)
            .map(|t| t.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_and_late_webhooks() {
        let t = Timestamp::from_millis;
        let mut l = Lifecycle::new(Status::Queued, t(1));
        for (s, at) in [
            (Status::Processing, 2),
            (Status::Sent, 3),
            (Status::Read, 5),
        ] {
            assert!(l.advance(s, t(at)));
        }
        assert!(
            !l.advance(Status::Delivered, t(6)),
            "late delivered never overwrites read"
        );
        assert!(!l.advance(Status::Read, t(7)), "duplicate is a no-op");
        let steps: Vec<_> = l.timeline.iter().map(|t| t.status).collect();
        // Read implies delivered (changed on purpose: a receiver of status webhooks gets
        // every step once, even when Meta's `read` overtakes its `delivered`).
        assert_eq!(
            steps,
            [
                Status::Queued,
                Status::Processing,
                Status::Sent,
                Status::Delivered,
                Status::Read
            ]
        );
    }

    #[test]
    fn retries_and_failures() {
        let t = Timestamp::from_millis;
        let mut l = Lifecycle::new(Status::Scheduled, t(0));
        assert!(l.advance(Status::Processing, t(1)));
        assert!(l.fail(Status::Retrying, t(2), "delivery_transient", "try again"));
        assert!(l.advance(Status::Processing, t(3)));
        assert!(l.fail(Status::Failed, t(4), "delivery_rejected", "bad"));
        assert_eq!(l.error_code.as_deref(), Some("delivery_rejected"));
        assert!(!l.advance(Status::Sent, t(5)));
        assert!(l.requeue(t(6)));
        assert_eq!(l.status, Status::Queued);
        assert!(!l.requeue(t(7)), "only failed messages are requeued");
    }

    #[test]
    fn transition_table_is_monotonic() {
        for from in Status::ALL {
            for to in Status::ALL {
                if from.can_become(to) && (from, to) != (Status::Retrying, Status::Processing) {
                    assert!(to.rank() >= from.rank(), "{from} -> {to}");
                }
            }
            assert!(!from.can_become(from), "{from} -> itself");
            if from.is_terminal() {
                assert!(
                    Status::ALL.iter().all(|to| !from.can_become(*to)),
                    "{from} is terminal"
                );
            }
        }
        assert!(
            Status::Processing.can_become(Status::Delivered),
            "webhook may beat the worker's own record"
        );
        assert!(!Status::Delivered.can_become(Status::Failed));
        assert!(Status::Sent.can_become(Status::Failed));
        assert_eq!(
            Status::from_provider(MessageStatus::Played),
            Some(Status::Read)
        );
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
