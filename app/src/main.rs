fn main() {
    leptos::mount::mount_to_body(qrgate_app::App);
}
