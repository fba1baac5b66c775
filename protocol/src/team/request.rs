//! The reason of an access request, sealed to the devices that may read it: the team's
//! supervisors and the requester's own. The request itself (which member asks for which
//! opaque case id) sits in the team document; its reason may name the resident, and the
//! team's other members have no need to know it.

use crate::crypto::{self, AgreementKey, SealedBox};
use crate::Result;

const REASON_INFO: &[u8] = b"eropaf access request reason v1\0";

/// Which request of which team a reason belongs to: opening it anywhere else fails.
#[derive(Clone, Copy, Debug)]
pub struct RequestScope<'a> {
    pub team_id: &'a str,
    pub request_id: &'a str,
}

impl RequestScope<'_> {
    fn info(&self, recipient: &str) -> Vec<u8> {
        let mut info = REASON_INFO.to_vec();
        info.extend_from_slice(
            format!("{}/{}/{recipient}", self.team_id, self.request_id).as_bytes(),
        );
        info
    }
}

/// Seals `reason` to device `recipient` (hex id) with its X25519 public key.
pub fn seal_reason(
    scope: RequestScope<'_>,
    reason: &str,
    recipient: &str,
    agreement_public_key: &[u8],
) -> Result<SealedBox> {
    crypto::seal_to(agreement_public_key, &scope.info(recipient), &[], reason.as_bytes())
}

/// Opens a reason sealed to device `me`.
pub fn open_reason(
    scope: RequestScope<'_>,
    sealed: &SealedBox,
    me: &str,
    agreement_key: &AgreementKey,
) -> Result<String> {
    let plain = crypto::open_sealed(agreement_key, &scope.info(me), &[], sealed)?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| crate::Error::Refused("a sealed reason is not text".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_reason_opens_for_its_recipient_in_its_request_only() {
        let supervisor = AgreementKey::generate().unwrap();
        let colleague = AgreementKey::generate().unwrap();
        let scope = RequestScope { team_id: "t", request_id: "r1" };
        let sealed =
            seal_reason(scope, "bewoner belde, dreigend beslag", "aa", &supervisor.public_key())
                .unwrap();
        assert_eq!(
            open_reason(scope, &sealed, "aa", &supervisor).unwrap(),
            "bewoner belde, dreigend beslag"
        );
        assert!(open_reason(scope, &sealed, "aa", &colleague).is_err(), "another device's key");
        let elsewhere = RequestScope { team_id: "t", request_id: "r2" };
        assert!(open_reason(elsewhere, &sealed, "aa", &supervisor).is_err(), "another request");
        assert!(open_reason(scope, &sealed, "bb", &supervisor).is_err(), "another recipient");
    }
}
