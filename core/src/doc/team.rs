//! The team's document: the team's name and its value frameworks. Frameworks are stored as
//! their source text under `id/version`, so every device reproduces an assessment's
//! justification from the exact framework version it was written against.

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ObjType, ReadDoc, Value, ROOT};
use autosurgeon::Hydrate;

use crate::checklist::Framework;
use crate::{Error, Result};

const SCHEMA: u64 = 1;

pub struct TeamDoc {
    doc: AutoCommit,
}

#[derive(Hydrate)]
struct TeamData {
    schema: u64,
    frameworks: HashMap<String, FrameworkData>,
}

#[derive(Hydrate)]
struct FrameworkData {
    source: String,
}

impl TeamDoc {
    pub fn create(actor: &[u8]) -> Result<TeamDoc> {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema", SCHEMA)?;
        doc.put_object(ROOT, "frameworks", ObjType::Map)?;
        doc.commit();
        Ok(TeamDoc { doc })
    }

    pub fn load(chunks: &[Vec<u8>], actor: &[u8]) -> Result<TeamDoc> {
        Ok(TeamDoc { doc: super::load_chunks(chunks, actor)? })
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Adds a framework version. Versions are immutable once shared: a changed framework
    /// needs a higher version number.
    pub fn install_framework(&mut self, framework: &Framework, source: &str) -> Result<()> {
        let key = framework_key(&framework.id, framework.version);
        let frameworks = match self.doc.get(ROOT, "frameworks")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(Error::Document("the team document lacks frameworks".into())),
        };
        let newest =
            self.frameworks()?.iter().filter(|f| f.id == framework.id).map(|f| f.version).max();
        if let Some(newest) = newest.filter(|v| *v >= framework.version) {
            return Err(Error::invalid(
                "version",
                format!(
                    "waardenkader {} heeft al versie {newest}; verhoog het versienummer",
                    framework.id
                ),
            ));
        }
        let obj = self.doc.put_object(&frameworks, key.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "source", source)?;
        self.doc.commit();
        Ok(())
    }

    /// Every installed framework version, sorted by id then version.
    pub fn frameworks(&self) -> Result<Vec<Framework>> {
        let data: TeamData = autosurgeon::hydrate(&self.doc)?;
        if data.schema > SCHEMA {
            return Err(Error::Document("the team document was written by a newer version".into()));
        }
        let mut frameworks = data
            .frameworks
            .into_values()
            .map(|f| Framework::parse(&f.source))
            .collect::<Result<Vec<_>>>()?;
        frameworks.sort_by(|a, b| a.id.cmp(&b.id).then(a.version.cmp(&b.version)));
        Ok(frameworks)
    }
}

fn framework_key(id: &str, version: u32) -> String {
    format!("{id}/{version}")
}
