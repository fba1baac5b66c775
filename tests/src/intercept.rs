//! Test transports that change a call or two of a real one: implement `Intercept` with only
//! the calls that differ (each gets the real transport to pass on to) and wrap the real one in
//! `Intercepted`. What a lossy network or a dishonest relay does is then all the code says.

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::sync::transport::{DocReaders, FileAt, JoinRequest, PullPage, Transport};
use eropaf_core::team::epoch::KeyPackage;
use eropaf_core::team::roster::{DeviceCard, RosterEntry};
use eropaf_core::team::wipe::WipeReport;
use eropaf_core::Result;

/// The calls of a `Transport`, each passed through to `inner` unless overridden.
pub trait Intercept {
    fn register_team(
        &self,
        inner: &dyn Transport,
        genesis: &RosterEntry,
        code: &str,
    ) -> Result<()> {
        inner.register_team(genesis, code)
    }
    fn roster(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> Result<Vec<RosterEntry>> {
        inner.roster(s, t)
    }
    fn append_roster(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        entries: &[RosterEntry],
    ) -> Result<()> {
        inner.append_roster(s, t, entries)
    }
    fn push(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> Result<Vec<u64>> {
        inner.push(s, t, envelopes, readers)
    }
    fn pull(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage> {
        inner.pull(s, t, after, limit)
    }
    #[allow(clippy::too_many_arguments)]
    fn pull_history(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        doc: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<PullPage> {
        inner.pull_history(s, t, doc, after, until, limit)
    }
    fn docs_with_history(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        docs: &[String],
        until: u64,
    ) -> Result<Vec<String>> {
        inner.docs_with_history(s, t, docs, until)
    }
    fn leave(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        docs: &[String],
    ) -> Result<()> {
        inner.leave(s, t, docs)
    }
    fn put_key_packages(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        packages: &[KeyPackage],
    ) -> Result<()> {
        inner.put_key_packages(s, t, packages)
    }
    fn key_packages(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> Result<Vec<KeyPackage>> {
        inner.key_packages(s, t)
    }
    fn create_invitation(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        id: &str,
        key: &[u8],
        expires: i64,
    ) -> Result<()> {
        inner.create_invitation(s, t, id, key, expires)
    }
    fn join(
        &self,
        inner: &dyn Transport,
        t: &str,
        id: &str,
        card: &DeviceCard,
        proof: &str,
    ) -> Result<()> {
        inner.join(t, id, card, proof)
    }
    fn join_requests(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> Result<Vec<JoinRequest>> {
        inner.join_requests(s, t)
    }
    fn erase(&self, inner: &dyn Transport, s: &DeviceIdentity, t: &str, doc: &str) -> Result<()> {
        inner.erase(s, t, doc)
    }
    fn report_wiped(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        report: &WipeReport,
    ) -> Result<()> {
        inner.report_wiped(s, t, report)
    }
    fn wipe_reports(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> Result<Vec<WipeReport>> {
        inner.wipe_reports(s, t)
    }
    fn chunks_held(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        file: &FileAt,
    ) -> Result<Vec<u32>> {
        inner.chunks_held(s, t, file)
    }
    fn put_chunk(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        file: &FileAt,
        index: u32,
        sealed: &[u8],
    ) -> Result<()> {
        inner.put_chunk(s, t, file, index, sealed)
    }
    fn chunk(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        file: &FileAt,
        index: u32,
    ) -> Result<Vec<u8>> {
        inner.chunk(s, t, file, index)
    }
}

/// A real transport with some of its calls changed by `hooks`.
pub struct Intercepted<'a, I> {
    pub inner: &'a dyn Transport,
    pub hooks: I,
}

impl<I: Intercept> Transport for Intercepted<'_, I> {
    fn register_team(&self, genesis: &RosterEntry, code: &str) -> Result<()> {
        self.hooks.register_team(self.inner, genesis, code)
    }
    fn roster(&self, s: &DeviceIdentity, t: &str) -> Result<Vec<RosterEntry>> {
        self.hooks.roster(self.inner, s, t)
    }
    fn append_roster(&self, s: &DeviceIdentity, t: &str, entries: &[RosterEntry]) -> Result<()> {
        self.hooks.append_roster(self.inner, s, t, entries)
    }
    fn push(
        &self,
        s: &DeviceIdentity,
        t: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> Result<Vec<u64>> {
        self.hooks.push(self.inner, s, t, envelopes, readers)
    }
    fn pull(&self, s: &DeviceIdentity, t: &str, after: u64, limit: u32) -> Result<PullPage> {
        self.hooks.pull(self.inner, s, t, after, limit)
    }
    fn pull_history(
        &self,
        s: &DeviceIdentity,
        t: &str,
        doc: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<PullPage> {
        self.hooks.pull_history(self.inner, s, t, doc, after, until, limit)
    }
    fn docs_with_history(
        &self,
        s: &DeviceIdentity,
        t: &str,
        docs: &[String],
        until: u64,
    ) -> Result<Vec<String>> {
        self.hooks.docs_with_history(self.inner, s, t, docs, until)
    }
    fn leave(&self, s: &DeviceIdentity, t: &str, docs: &[String]) -> Result<()> {
        self.hooks.leave(self.inner, s, t, docs)
    }
    fn put_key_packages(&self, s: &DeviceIdentity, t: &str, packages: &[KeyPackage]) -> Result<()> {
        self.hooks.put_key_packages(self.inner, s, t, packages)
    }
    fn key_packages(&self, s: &DeviceIdentity, t: &str) -> Result<Vec<KeyPackage>> {
        self.hooks.key_packages(self.inner, s, t)
    }
    fn create_invitation(
        &self,
        s: &DeviceIdentity,
        t: &str,
        id: &str,
        key: &[u8],
        expires: i64,
    ) -> Result<()> {
        self.hooks.create_invitation(self.inner, s, t, id, key, expires)
    }
    fn join(&self, t: &str, id: &str, card: &DeviceCard, proof: &str) -> Result<()> {
        self.hooks.join(self.inner, t, id, card, proof)
    }
    fn join_requests(&self, s: &DeviceIdentity, t: &str) -> Result<Vec<JoinRequest>> {
        self.hooks.join_requests(self.inner, s, t)
    }
    fn erase(&self, s: &DeviceIdentity, t: &str, doc: &str) -> Result<()> {
        self.hooks.erase(self.inner, s, t, doc)
    }
    fn report_wiped(&self, s: &DeviceIdentity, t: &str, report: &WipeReport) -> Result<()> {
        self.hooks.report_wiped(self.inner, s, t, report)
    }
    fn wipe_reports(&self, s: &DeviceIdentity, t: &str) -> Result<Vec<WipeReport>> {
        self.hooks.wipe_reports(self.inner, s, t)
    }
    fn chunks_held(&self, s: &DeviceIdentity, t: &str, file: &FileAt) -> Result<Vec<u32>> {
        self.hooks.chunks_held(self.inner, s, t, file)
    }
    fn put_chunk(
        &self,
        s: &DeviceIdentity,
        t: &str,
        file: &FileAt,
        index: u32,
        sealed: &[u8],
    ) -> Result<()> {
        self.hooks.put_chunk(self.inner, s, t, file, index, sealed)
    }
    fn chunk(&self, s: &DeviceIdentity, t: &str, file: &FileAt, index: u32) -> Result<Vec<u8>> {
        self.hooks.chunk(self.inner, s, t, file, index)
    }
}
