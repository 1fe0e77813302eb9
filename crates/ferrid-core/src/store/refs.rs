//! Typed references to stored objects: validated names, so a port method cannot be
//! handed a tenant where a track belongs, nor a string that names nothing.

use ferrid_oauth::name::Name;

use crate::model::{App, Track};

/// A track of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackRef {
    pub tenant: Name,
    pub track: Name,
}

/// An app of a track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppRef {
    pub track: TrackRef,
    pub app: Name,
}

impl TrackRef {
    pub fn new(tenant: Name, track: Name) -> TrackRef {
        TrackRef { tenant, track }
    }

    /// The track `tenant/track` names, if both are valid names (an invalid one names
    /// nothing that could be stored).
    pub fn parse(tenant: &str, track: &str) -> Option<TrackRef> {
        Some(TrackRef::new(Name::parse(tenant).ok()?, Name::parse(track).ok()?))
    }

    /// The app `app` of this track.
    pub fn app(&self, app: Name) -> AppRef {
        AppRef { track: self.clone(), app }
    }
}

impl AppRef {
    pub fn tenant(&self) -> &Name {
        &self.track.tenant
    }
}

impl Track {
    pub fn track_ref(&self) -> TrackRef {
        TrackRef::new(self.tenant.clone(), self.name.clone())
    }
}

impl App {
    pub fn track_ref(&self) -> TrackRef {
        TrackRef::new(self.tenant.clone(), self.track.clone())
    }

    pub fn app_ref(&self) -> AppRef {
        self.track_ref().app(self.name.clone())
    }
}
