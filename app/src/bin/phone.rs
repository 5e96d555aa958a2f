//! The phone pages' bundle (`app/phone.html`, served for every path under `/m/`).
fn main() {
    leptos::mount::mount_to_body(qrgate_app::phone::PhoneApp);
}
