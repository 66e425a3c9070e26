#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
pub mod dispatch;
pub mod ids;
pub mod lifecycle;
pub mod message;
pub mod queue;
pub mod webhook;

pub use async_trait::async_trait;
#[cfg(feature = "cloud-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "cloud-api")))]
pub use backend::cloud_api::{
    CloudApiBackend, CloudApiBuilder, request_body as cloud_api_request_body,
};
#[cfg(feature = "wsapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "wsapi")))]
pub use backend::wsapi::{WsapiBackend, WsapiBuilder, request as wsapi_request};
pub use backend::{
    BoxFuture, CredentialInfo, DeliveryBackend, DeliveryError, DryRunBackend, ErrorClass,
    RateLimitScope, Receipt, SharedBackend, StubBackend, classify_meta_code,
};
pub use dispatch::{
    BackendRouter, BulkOutcome, BulkRequest, DispatchConfig, Dispatcher, EnqueueRequest, Enqueued,
    ItemError, Next, RetryPolicy, SendError, SingleBackend, UnknownOutcome, WebhookTarget,
    WebhookTargets,
};
pub use lifecycle::{Lifecycle, Status, TimelineEntry};
pub use message::{
    ButtonSubType, Buttons, Contact, ContactEmail, ContactName, ContactOrg, ContactPhone,
    ContactUrl, Content, List, ListRow, ListSection, Location, Media, MediaKind, MediaSource,
    MessageError, Outbound, Recipient, ReplyButton, Template, TemplateComponent, TemplateParameter,
};
pub use wa_validate::time::{Clock, ManualClock, SystemClock, Timestamp};
pub use webhook::meta::{InboundMessage, MessageStatus, StatusUpdate, WebhookError, WebhookEvent};
