//! WhatsApp JIDs (`user[.agent][:device]@server`), as used by WhatsApp-Web-based
//! instance APIs (WSAPI, WAHA, whatsmeow).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::phone::Phone;

/// The server part of a JID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum JidServer {
    /// `s.whatsapp.net`: users, by phone digits.
    User,
    /// `c.us`: the legacy user server still used by WAHA and whatsapp-web.js.
    LegacyUser,
    /// `g.us`: groups.
    Group,
    /// `broadcast`: broadcast lists and `status@broadcast`.
    Broadcast,
    /// `lid`: privacy ("hidden user") ids, not mappable to a phone.
    Lid,
    /// `newsletter`: channels.
    Newsletter,
    /// `msgr`: Messenger interop.
    Messenger,
    /// `interop`: third-party interop.
    Interop,
    /// `hosted`: Cloud-API-hosted business users.
    Hosted,
    /// `hosted.lid`: LIDs of hosted users.
    HostedLid,
    /// `bot`: Meta AI and other bots.
    Bot,
}

impl JidServer {
    const ALL: [JidServer; 11] = [
        JidServer::User,
        JidServer::LegacyUser,
        JidServer::Group,
        JidServer::Broadcast,
        JidServer::Lid,
        JidServer::Newsletter,
        JidServer::Messenger,
        JidServer::Interop,
        JidServer::Hosted,
        JidServer::HostedLid,
        JidServer::Bot,
    ];

    /// The server string, e.g. `s.whatsapp.net`.
    pub fn as_str(self) -> &'static str {
        match self {
            JidServer::User => "s.whatsapp.net",
            JidServer::LegacyUser => "c.us",
            JidServer::Group => "g.us",
            JidServer::Broadcast => "broadcast",
            JidServer::Lid => "lid",
            JidServer::Newsletter => "newsletter",
            JidServer::Messenger => "msgr",
            JidServer::Interop => "interop",
            JidServer::Hosted => "hosted",
            JidServer::HostedLid => "hosted.lid",
            JidServer::Bot => "bot",
        }
    }

    fn allows_device(self) -> bool {
        matches!(
            self,
            JidServer::User | JidServer::Lid | JidServer::Hosted | JidServer::HostedLid
        )
    }

    fn user_ok(self, user: &str) -> bool {
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        match self {
            // Phone digits: E.164 is at most 15, but some service numbers are shorter.
            JidServer::User | JidServer::LegacyUser | JidServer::Hosted => digits(user, 5, 15),
            JidServer::Lid | JidServer::HostedLid | JidServer::Newsletter | JidServer::Bot => {
                digits(user, 1, 24)
            }
            // New groups: `1203630…`; old groups: `<creator>-<unix time>`.
            JidServer::Group => match user.split_once('-') {
                Some((creator, ts)) => digits(creator, 5, 15) && digits(ts, 1, 12),
                None => digits(user, 5, 24),
            },
            JidServer::Broadcast => user == "status" || digits(user, 1, 24),
            JidServer::Messenger | JidServer::Interop => {
                !user.is_empty()
                    && user.len() <= 32
                    && user.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            }
        }
    }
}

impl fmt::Display for JidServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A WhatsApp JID.
///
/// # Examples
/// ```
/// use wa_validate::{Jid, JidServer};
///
/// let j = Jid::parse("14155552671:12@s.whatsapp.net")?;
/// assert_eq!(j.user(), "14155552671");
/// assert_eq!(j.device(), Some(12));
/// assert_eq!(j.server(), JidServer::User);
/// assert_eq!(j.without_device().to_string(), "14155552671@s.whatsapp.net");
///
/// assert!(Jid::parse("120363041234567890@g.us")?.is_group());
/// assert_eq!(Jid::parse("abc@g.us").unwrap_err().code(), "jid_invalid_user");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    user: String,
    agent: Option<u8>,
    device: Option<u16>,
    server: JidServer,
}

impl Jid {
    /// Parses `user[.agent][:device]@server`. Surrounding whitespace is trimmed; the
    /// server is matched case-insensitively.
    ///
    /// # Errors
    /// `jid_missing_server`, `jid_unknown_server`, `jid_invalid_user`,
    /// `jid_invalid_device`.
    pub fn parse(input: &str) -> Result<Jid> {
        let s = input.trim();
        let (left, server) = s.rsplit_once('@').ok_or(Error::JidMissingServer)?;
        let server_lc = server.to_ascii_lowercase();
        let server = JidServer::ALL
            .into_iter()
            .find(|k| k.as_str() == server_lc)
            .ok_or_else(|| Error::JidUnknownServer {
                server: server.chars().take(64).collect(),
            })?;
        let (left, device) = match left.split_once(':') {
            Some((u, d)) => (u, Some(parse_num::<u16>(d)?)),
            None => (left, None),
        };
        // The agent suffix only exists on device-capable servers; elsewhere a `.` is
        // simply not allowed in the user part.
        let (user, agent) = match left.split_once('.') {
            Some((u, a)) if server.allows_device() => (u, Some(parse_num::<u8>(a)?)),
            _ => (left, None),
        };
        if (device.is_some() || agent.is_some()) && !server.allows_device() {
            return Err(Error::JidInvalidDevice);
        }
        if !server.user_ok(user) {
            return Err(Error::JidInvalidUser {
                server: server.as_str(),
            });
        }
        Ok(Jid {
            user: user.to_owned(),
            agent,
            device,
            server,
        })
    }

    /// The user JID of a phone number: `<digits>@s.whatsapp.net`.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::{Jid, Phone};
    /// let jid = Jid::from_phone(&Phone::parse("+44 7911 123456")?);
    /// assert_eq!(jid.to_string(), "447911123456@s.whatsapp.net");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn from_phone(phone: &Phone) -> Jid {
        Jid {
            user: phone.digits().to_owned(),
            agent: None,
            device: None,
            server: JidServer::User,
        }
    }

    /// The user part.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The server.
    pub fn server(&self) -> JidServer {
        self.server
    }

    /// The device number, for multi-device ("AD") JIDs.
    pub fn device(&self) -> Option<u16> {
        self.device
    }

    /// The agent number, for AD JIDs written `user.agent:device@server`.
    pub fn agent(&self) -> Option<u8> {
        self.agent
    }

    /// The same JID without agent and device.
    pub fn without_device(&self) -> Jid {
        Jid {
            user: self.user.clone(),
            agent: None,
            device: None,
            server: self.server,
        }
    }

    /// A user addressed by phone (`s.whatsapp.net` or `c.us`).
    pub fn is_phone_user(&self) -> bool {
        matches!(self.server, JidServer::User | JidServer::LegacyUser)
    }

    /// A group.
    pub fn is_group(&self) -> bool {
        self.server == JidServer::Group
    }

    /// A LID (privacy id).
    pub fn is_lid(&self) -> bool {
        matches!(self.server, JidServer::Lid | JidServer::HostedLid)
    }

    /// A channel.
    pub fn is_newsletter(&self) -> bool {
        self.server == JidServer::Newsletter
    }

    /// A broadcast list or Status.
    pub fn is_broadcast(&self) -> bool {
        self.server == JidServer::Broadcast
    }

    /// `status@broadcast`.
    pub fn is_status(&self) -> bool {
        self.server == JidServer::Broadcast && self.user == "status"
    }
}

fn parse_num<T: FromStr>(s: &str) -> Result<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::JidInvalidDevice);
    }
    s.parse().map_err(|_| Error::JidInvalidDevice)
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user)?;
        if let Some(a) = self.agent {
            write!(f, ".{a}")?;
        }
        if let Some(d) = self.device {
            write!(f, ":{d}")?;
        }
        write!(f, "@{}", self.server)
    }
}

impl FromStr for Jid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Jid::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for ok in [
            "14155552671@s.whatsapp.net",
            "14155552671.0:3@s.whatsapp.net",
            "14155552671@c.us",
            "120363041234567890@g.us",
            "14155552671-1609459200@g.us",
            "status@broadcast",
            "1609459200@broadcast",
            "123456789012345@lid",
            "98765:2@lid",
            "120363144038483540@newsletter",
        ] {
            let j = Jid::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(j.to_string(), ok);
        }
        let code = |s: &str| Jid::parse(s).unwrap_err().code();
        assert_eq!(code("14155552671"), "jid_missing_server");
        assert_eq!(code("1@example.com"), "jid_unknown_server");
        assert_eq!(code("abc@s.whatsapp.net"), "jid_invalid_user");
        assert_eq!(code("1234567890:x@s.whatsapp.net"), "jid_invalid_device");
        assert_eq!(code("1203630412:1@g.us"), "jid_invalid_device");
        assert_eq!(code("@g.us"), "jid_invalid_user");
    }
}
