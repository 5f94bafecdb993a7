//! The console: Leptos components and server functions.
//!
//! Built twice: with `ssr` into the server (rendering, server functions, storage) and with
//! `hydrate` into the WebAssembly frontend. Everything server-only lives in the
//! `ssr`-gated [`backend`] module so none of it reaches the wasm build.

pub mod api;
pub mod error;
pub mod model;
pub mod pages;
pub mod validation;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::api::auth::{SetUp, SignIn, SignOut, whoami};
use crate::error::AppError;
use crate::model::CurrentUser;

/// Name of the generated `pkg/<name>.js`, `pkg/<name>_bg.wasm` and `pkg/<name>.css`.
pub const OUTPUT_NAME: &str = "data-streaming";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The Content-Security-Policy's nonce for this response's scripts.
    #[cfg(feature = "ssr")]
    backend::provide_csp_nonce();
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

/// The session as the pages see it: who is signed in, and the actions that change it
/// (the user is re-read whenever one of them completes).
#[derive(Clone, Copy)]
pub struct Auth {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    pub sign_in: ServerAction<SignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub set_up: ServerAction<SetUp>,
}

impl Auth {
    /// The signed-in user, once loaded (use inside `Suspense`/`Transition`).
    pub fn current(&self) -> Option<CurrentUser> {
        self.user.get().and_then(|r| r.ok()).flatten()
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let sign_in = ServerAction::<SignIn>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let set_up = ServerAction::<SetUp>::new();
    let user = Resource::new(
        move || {
            (
                sign_in.version().get(),
                sign_out.version().get(),
                set_up.version().get(),
            )
        },
        |_| whoami(),
    );
    provide_context(Auth {
        user,
        sign_in,
        sign_out,
        set_up,
    });

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title text="Data Streaming" />
        // Async SSR: pages arrive complete, so they also read right without JavaScript.
        <Router>
            <pages::layout::TopBar />
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/sign-in") view=pages::auth::SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=pages::auth::SetupPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/")
                        ssr=SsrMode::Async
                        view=|| view! {
                            <pages::layout::Protected>
                                <pages::streams::StreamsPage />
                                <pages::home::AccountOverview />
                            </pages::layout::Protected>
                        }
                    />
                    <Route
                        path=path!("/streams/new")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::stream_form::StreamFormPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/streams/:id/edit")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::stream_form::StreamFormPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/streams/:id/dashboard")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::dashboard::StreamDashboardPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/templates")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::fields::TemplatesPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/ingest-tokens")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::tokens::TokensPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/fields")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::fields::FieldsPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/domains")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::domains::DomainsPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/users")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::users::UsersPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/account")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::account::AccountPage /><pages::home::ServiceCard /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/api-tokens")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::api_tokens::ApiTokensPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/activity")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::activity::ActivityPage /></pages::layout::Protected> }
                    />
                    <Route
                        path=path!("/edge")
                        ssr=SsrMode::Async
                        view=|| view! { <pages::layout::Protected><pages::edge::EdgePage /></pages::layout::Protected> }
                    />
                </Routes>
            </main>
        </Router>
    }
}
