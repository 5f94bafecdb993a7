//! The console: Leptos components and server functions.
//!
//! Built twice: with `ssr` into the server (rendering, server functions, storage) and with
//! `hydrate` into the WebAssembly frontend. Everything server-only lives in the
//! `ssr`-gated [`backend`] module so none of it reaches the wasm build.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// Name of the generated `pkg/<name>.js`, `pkg/<name>_bg.wasm` and `pkg/<name>.css`.
pub const OUTPUT_NAME: &str = "data-streaming";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title text="Data Streaming" />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Data Streaming"</a>
            </header>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("") view=pages::Home />
                </Routes>
            </main>
        </Router>
    }
}
