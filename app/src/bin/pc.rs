//! The PC sign-in page's bundle (`app/index.html`, served at `/`).
fn main() {
    leptos::mount::mount_to_body(qrgate_app::pc::PcApp);
}
