//! The path parameters of the management routes: each type is at once what the
//! handler extracts (serde) and what the document lists (`IntoParams`), and yields the
//! caller's scope for the tenant and track it names (docs/api.md "Authorization").

use ferrid_core::manage::{Caller, ManageResult, TenantScope, TrackScope};
use serde::Deserialize;
use utoipa::IntoParams;

/// `{tenant}`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// The tenant's name.
    pub tenant: String,
}

impl TenantPath {
    pub fn scope<'c>(&self, caller: &'c Caller) -> ManageResult<TenantScope<'c>> {
        caller.tenant(&self.tenant)
    }
}

/// Declares a path below a track: `{tenant}/{track}` and the named segments after it.
macro_rules! track_paths {
    ($($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident),* })*) => {$(
        $(#[$doc])*
        #[derive(Deserialize, IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            /// The tenant's name.
            pub tenant: String,
            /// The track's name.
            pub track: String,
            $($(#[$fdoc])* pub $field: String,)*
        }

        impl $name {
            /// The caller's scope of this track: 404 for a tenant it does not manage.
            pub fn scope<'c>(&self, caller: &'c Caller) -> ManageResult<TrackScope<'c>> {
                caller.tenant(&self.tenant)?.track(&self.track)
            }
        }
    )*};
}

track_paths! {
    /// `{tenant}/{track}`
    TrackPath {}
    /// `{tenant}/{track}/{app}`
    AppPath {
        /// The app's name.
        app
    }
    /// `{tenant}/{track}/{app}/secrets/{id}`
    SecretPath {
        /// The app's name.
        app,
        /// The secret's id, as listed.
        id
    }
    /// `{tenant}/{track}/users/{id}`
    UserPath {
        /// The user's id (its `sub`).
        id
    }
    /// `{tenant}/{track}/{app}/keys/{kid}`
    KeyPath {
        /// The app's name.
        app,
        /// The key's id, as listed.
        kid
    }
}
