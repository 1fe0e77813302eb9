//! What every console page is made of: the layout (title, navigation, the signed-in
//! person, the logout form), links, and forms whose fields carry the management rules'
//! errors next to them (`aria-invalid`, `aria-describedby`), with the input kept.

use askama::Template;
use ferrid_core::manage::{FieldError, ManageError};

/// A row of a listing: its first cell names the thing and links to its page (or, with
/// an empty `href`, names it only), the others are text.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub href: String,
    pub cells: Vec<String>,
}

/// A listing's table and its "Next page" link (console/table.html), or `empty` when
/// there are no rows. The caption, read by screen readers, says what is listed.
#[derive(Debug, Clone, Template)]
#[template(path = "console/table.html")]
pub struct Table {
    pub caption: &'static str,
    pub columns: &'static [&'static str],
    pub empty: &'static str,
    pub rows: Vec<Row>,
    pub next: Option<String>,
}

/// A link of a navigation list.
#[derive(Debug, Clone)]
pub struct Link {
    pub label: String,
    pub href: String,
    /// The page shown (`aria-current="page"`).
    pub current: bool,
}

impl Link {
    pub fn new(label: impl Into<String>, href: impl Into<String>) -> Link {
        Link { label: label.into(), href: href.into(), current: false }
    }

    pub fn current(mut self, yes: bool) -> Link {
        self.current = yes;
        self
    }
}

/// The frame of every page: `<title>`, the banner with the person and the logout form,
/// the breadcrumb and section navigation, the `<h1>`, and messages.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    pub stylesheet: String,
    /// The logout form's action and the session's CSRF token.
    pub logout: String,
    pub csrf: String,
    /// The signed-in person, as they log in (username or email).
    pub user: String,
    /// Where the page is: console › tenant › track.
    pub crumbs: Vec<Link>,
    /// The sections at this level (a track's: Settings, Applications, Users).
    pub sections: Vec<Link>,
    /// What the last change did (`role="status"`).
    pub notice: Option<String>,
    /// A problem that names no field (`role="alert"`).
    pub alert: Option<String>,
}

/// One choice of a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One labelled form control.
#[derive(Debug, Clone)]
pub struct Field {
    /// The control's name: the management rule's field it fills.
    pub name: String,
    /// `text`, `password`, `email`, `number`, `datetime-local`, `select`, `checkbox`,
    /// `textarea`, `checkboxes` (a group, see [`Field::checkboxes`]) or `hidden`.
    pub kind: &'static str,
    pub label: String,
    pub value: String,
    pub checked: bool,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub autocomplete: Option<&'static str>,
    /// Help shown under the label (`aria-describedby`).
    pub hint: Option<String>,
    pub error: Option<String>,
}

impl Field {
    fn new(kind: &'static str, name: &str, label: &str) -> Field {
        Field {
            name: name.to_owned(),
            kind,
            label: label.to_owned(),
            value: String::new(),
            checked: false,
            choices: Vec::new(),
            required: false,
            autocomplete: None,
            hint: None,
            error: None,
        }
    }

    pub fn text(name: &str, label: &str) -> Field {
        Field::new("text", name, label)
    }

    pub fn password(name: &str, label: &str) -> Field {
        Field::new("password", name, label).autocomplete("new-password")
    }

    pub fn number(name: &str, label: &str) -> Field {
        Field::new("number", name, label)
    }

    /// A file chooser; its form must be [`FormView::multipart`]. Never refilled.
    pub fn file(name: &str, label: &str) -> Field {
        Field::new("file", name, label)
    }

    pub fn textarea(name: &str, label: &str) -> Field {
        Field::new("textarea", name, label)
    }

    pub fn checkbox(name: &str, label: &str, checked: bool) -> Field {
        Field { checked, ..Field::new("checkbox", name, label) }
    }

    pub fn hidden(name: &str, value: &str) -> Field {
        Field::new("hidden", name, "").value(value)
    }

    /// A group of checkboxes sharing `name`, one per `(value, checked)`: each checked
    /// one is posted as `name=value`.
    pub fn checkboxes(name: &str, label: &str, boxes: &[(String, bool)]) -> Field {
        let choices =
            boxes.iter().map(|(v, on)| Choice { value: v.clone(), label: v.clone(), selected: *on }).collect();
        Field { choices, ..Field::new("checkboxes", name, label) }
    }

    /// A `<select>` of `(value, label)` choices, `selected` chosen.
    pub fn select(name: &str, label: &str, choices: &[(&str, &str)], selected: &str) -> Field {
        let choices = choices
            .iter()
            .map(|(v, l)| Choice { value: (*v).to_owned(), label: (*l).to_owned(), selected: *v == selected })
            .collect();
        Field { choices, ..Field::new("select", name, label) }
    }

    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Field {
        self.hint = Some(h.into());
        self
    }

    pub fn autocomplete(mut self, a: &'static str) -> Field {
        self.autocomplete = Some(a);
        self
    }

    /// The control's `id` (unique on a page: one form holds a name once).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
    }

    /// The ids that describe the control: its hint and its error.
    pub fn described_by(&self) -> String {
        let id = self.id();
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{id}-hint"));
        }
        if self.error.is_some() {
            ids.push(format!("{id}-error"));
        }
        ids.join(" ")
    }
}

/// A form: where it goes, its controls and its button. A `POST` form carries the
/// session's CSRF token.
#[derive(Debug, Clone, Template)]
#[template(path = "console/form.html")]
pub struct FormView {
    pub action: String,
    /// `post` or `get`.
    pub method: &'static str,
    /// The accessible name of the form (`aria-label`), when a page has several.
    pub label: Option<String>,
    pub csrf: Option<String>,
    pub fields: Vec<Field>,
    pub submit: String,
    /// A dangerous action's button looks like one.
    pub danger: bool,
    /// Posted as `multipart/form-data` (a form with a file), read by `ConsoleUpload`.
    pub multipart: bool,
}

impl FormView {
    pub fn post(action: impl Into<String>, csrf: &str, submit: &str) -> FormView {
        FormView {
            action: action.into(),
            method: "post",
            label: None,
            csrf: Some(csrf.to_owned()),
            fields: Vec::new(),
            submit: submit.to_owned(),
            danger: false,
            multipart: false,
        }
    }

    pub fn get(action: impl Into<String>, submit: &str) -> FormView {
        FormView { method: "get", csrf: None, ..FormView::post(action, "", submit) }
    }

    pub fn field(mut self, f: Field) -> FormView {
        self.fields.push(f);
        self
    }

    pub fn label(mut self, l: &str) -> FormView {
        self.label = Some(l.to_owned());
        self
    }

    pub fn multipart(mut self) -> FormView {
        self.multipart = true;
        self
    }

    pub fn danger(mut self) -> FormView {
        self.danger = true;
        self
    }

    /// Fills the named controls with the values posted (a re-rendered form keeps its
    /// input; passwords are never sent back).
    pub fn keep(&mut self, posted: &Posted) {
        for f in &mut self.fields {
            match f.kind {
                "password" | "hidden" | "file" => {}
                "checkbox" => f.checked = posted.get(&f.name).is_some(),
                "checkboxes" => f.choices.iter_mut().for_each(|c| {
                    c.selected = posted.fields.iter().any(|(k, v)| *k == f.name && *v == c.value);
                }),
                "select" => {
                    let v = posted.get(&f.name).unwrap_or_default();
                    f.choices.iter_mut().for_each(|c| c.selected = c.value == v);
                }
                _ => f.value = posted.get(&f.name).unwrap_or_default().to_owned(),
            }
        }
    }

    /// Puts each error next to the control it names (`claims.sub` belongs to `claims`);
    /// returns those that name no control of the form.
    pub fn place(&mut self, errors: &[FieldError]) -> Vec<String> {
        let mut rest = Vec::new();
        for e in errors {
            let owner = self.fields.iter_mut().find(|f| {
                f.kind != "hidden"
                    && (e.field == f.name
                        || e.field.strip_prefix(f.name.as_str()).is_some_and(|r| r.starts_with(['.', '['])))
            });
            match owner {
                Some(f) => {
                    let message =
                        if e.field == f.name { e.message.clone() } else { format!("{}: {}", e.field, e.message) };
                    f.error = Some(match f.error.take() {
                        Some(before) => format!("{before} {message}"),
                        None => message,
                    });
                }
                None => rest.push(format!("{}: {}", e.field, e.message)),
            }
        }
        rest
    }

    /// Shows a refusal of the management rules on this form: field errors next to their
    /// fields, a conflict on `conflict_field` (the name that is taken), anything else in
    /// the alert. Returns the alert, if any.
    pub fn refused(&mut self, e: &ManageError, conflict_field: &str) -> Option<String> {
        let rest = match e {
            ManageError::Invalid(errors) => self.place(errors),
            ManageError::Conflict(m) => self.place(&[FieldError::new(conflict_field, m.clone())]),
            ManageError::PreconditionFailed => {
                vec!["It was changed by someone else since this page was loaded; reload and try again.".into()]
            }
            other => vec![other.to_string()],
        };
        (!rest.is_empty()).then(|| rest.join(" "))
    }

    /// Whether any control shows an error.
    pub fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }
}

/// A posted form (`application/x-www-form-urlencoded`), its CSRF token checked.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub fields: Vec<(String, String)>,
}

impl Posted {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of `name`, trimmed, if not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_goes_next_to_the_control_it_names_or_its_parent() {
        let mut form = FormView::post("/x", "t", "Save")
            .field(Field::text("username", "Username"))
            .field(Field::textarea("claims", "Claims"));
        let rest = form.place(&[
            FieldError::new("username", "is taken"),
            FieldError::new("claims.sub", "is set by ferrid"),
            FieldError::new("claimsx", "unknown"),
            FieldError::new("extra", "is not a field"),
        ]);
        assert_eq!(form.fields[0].error.as_deref(), Some("is taken"));
        assert_eq!(form.fields[1].error.as_deref(), Some("claims.sub: is set by ferrid"));
        assert_eq!(rest, ["claimsx: unknown", "extra: is not a field"]);
        assert_eq!(form.fields[0].described_by(), "f-username-error");
    }

    #[test]
    fn a_rendered_form_escapes_values_and_links_errors_to_controls() {
        let mut form = FormView::post("/x", "tok", "Save").field(Field::text("name", "Name").value("<b>\"x\"</b>"));
        form.place(&[FieldError::new("name", "must match <rule>")]);
        let html = form.render().unwrap();
        assert!(html.contains("&#60;b&#62;") || html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(html.contains(r#"aria-describedby="f-name-error""#), "{html}");
        assert!(html.contains(r#"id="f-name-error""#), "{html}");
        assert!(html.contains(r#"name="csrf" value="tok""#), "{html}");
    }

    #[test]
    fn a_kept_form_never_sends_a_password_back() {
        let mut form = FormView::post("/x", "t", "Save")
            .field(Field::text("username", "Username"))
            .field(Field::password("password", "Password"))
            .field(Field::checkbox("email_verified", "Verified", false));
        let posted = Posted {
            fields: vec![
                ("username".into(), "al".into()),
                ("password".into(), "secret".into()),
                ("email_verified".into(), "on".into()),
            ],
        };
        form.keep(&posted);
        assert_eq!(form.fields[0].value, "al");
        assert_eq!(form.fields[1].value, "");
        assert!(form.fields[2].checked);
    }

    #[test]
    fn a_checkbox_group_keeps_exactly_the_boxes_posted_and_links_its_error() {
        let boxes = [("api:read".to_owned(), true), ("api:write".to_owned(), false)];
        let mut form = FormView::post("/x", "t", "Save").field(Field::checkboxes("resource_scopes", "Scopes", &boxes));
        form.keep(&Posted { fields: vec![("resource_scopes".into(), "api:write".into())] });
        let picked: Vec<bool> = form.fields[0].choices.iter().map(|c| c.selected).collect();
        assert_eq!(picked, [false, true]);
        form.place(&[FieldError::new("resource_scopes[0].resource", "is not a resource")]);
        let html = form.render().unwrap();
        assert!(
            html.contains(r#"<fieldset class="field invalid" aria-describedby="f-resource-scopes-error">"#),
            "{html}"
        );
        assert!(html.contains(r#"name="resource_scopes" value="api:write" checked"#), "{html}");
        assert!(
            html.contains(r#"id="f-resource-scopes-error">resource_scopes[0].resource: is not a resource"#),
            "{html}"
        );
    }
}
