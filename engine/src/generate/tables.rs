//! The generator's tables: where visitors are, the user agents they send, the pages a site
//! serves, the attacks and referrers seen, the edges, origins and TLS setups.
//!
//! Texts outside [`USER_AGENTS`], page queries and [`ATTACKS`] are written as they are, so
//! they must not need JSON escaping (a test checks).

/// Where visitors are, with the networks they use.
pub(super) struct Geo {
    pub(super) country: &'static str,
    pub(super) state: &'static str,
    pub(super) asn: &'static str,
    /// First octets of the network's IPv4 addresses.
    pub(super) first_octets: &'static [u8],
    pub(super) weight: u32,
}

const fn geo(
    country: &'static str,
    state: &'static str,
    asn: &'static str,
    first_octets: &'static [u8],
    weight: u32,
) -> Geo {
    Geo {
        country,
        state,
        asn,
        first_octets,
        weight,
    }
}

pub(super) const GEOS: &[Geo] = &[
    geo("Brazil", "São Paulo", "AS28573", &[177, 179, 189], 22),
    geo("Brazil", "Rio de Janeiro", "AS18881", &[187, 191], 10),
    geo("Brazil", "Rio Grande do Sul", "AS8167", &[186, 201], 6),
    geo("United States", "California", "AS7922", &[24, 73], 12),
    geo("United States", "New York", "AS701", &[71, 108], 8),
    geo("United States", "Texas", "AS7018", &[99, 107], 6),
    geo("United States", "Iowa", "AS15169", &[34, 66], 4),
    geo("Mexico", "Ciudad de México", "AS8151", &[187, 189], 5),
    geo("Argentina", "Buenos Aires", "AS7303", &[181, 190], 4),
    geo("Portugal", "Lisboa", "AS3243", &[85, 89], 3),
    geo("Germany", "Hesse", "AS3320", &[79, 91], 5),
    geo("United Kingdom", "England", "AS2856", &[81, 86], 5),
    geo("France", "Île-de-France", "AS3215", &[86, 90], 4),
    geo("Japan", "Tokyo", "AS2516", &[106, 111], 3),
    geo("India", "Maharashtra", "AS55836", &[49, 157], 3),
];

pub(super) struct UserAgent {
    pub(super) text: &'static str,
    pub(super) weight: u32,
}

pub(super) const USER_AGENTS: &[UserAgent] = &[
    UserAgent {
        text: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        weight: 30,
    },
    UserAgent {
        text: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        weight: 22,
    },
    UserAgent {
        text: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        weight: 18,
    },
    UserAgent {
        text: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        weight: 8,
    },
    UserAgent {
        text: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
        weight: 6,
    },
    UserAgent {
        text: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        weight: 4,
    },
    UserAgent {
        text: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        weight: 3,
    },
    UserAgent {
        text: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        weight: 2,
    },
    UserAgent {
        text: "okhttp/4.12.0",
        weight: 3,
    },
    UserAgent {
        text: "curl/8.5.0",
        weight: 1,
    },
    UserAgent {
        text: "python-requests/2.32.3",
        weight: 1,
    },
    // Clients send odd headers too; these two need escaping.
    UserAgent {
        text: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "ShopAssistant" Toolbar/2.1"#,
        weight: 1,
    },
    UserAgent {
        text: r"InventorySync/3.4 (C:\Program Files\InventorySync\sync.exe)",
        weight: 1,
    },
];

/// Something a site serves.
pub(super) struct Page {
    pub(super) path: &'static str,
    pub(super) content_type: &'static str,
    /// The range of its body sizes.
    pub(super) body_bytes: (u32, u32),
    pub(super) cacheable: bool,
    /// Served through the image processor, which reports the original's size.
    pub(super) image: bool,
    pub(super) accepts_post: bool,
    /// Query strings it is requested with (or without), as clients send them.
    pub(super) queries: &'static [&'static str],
}

pub(super) const PAGES: &[Page] = &[
    Page {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body_bytes: (18_000, 60_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["utm_source=newsletter&utm_medium=email", "ref=homepage"],
    },
    Page {
        path: "/products/shoes",
        content_type: "text/html; charset=utf-8",
        body_bytes: (20_000, 80_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["color=blue&size=42", "sort=price_asc&page=2", "color=red"],
    },
    Page {
        path: "/products/shoes/trail-runner-42",
        content_type: "text/html; charset=utf-8",
        body_bytes: (30_000, 90_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/search",
        content_type: "text/html; charset=utf-8",
        body_bytes: (15_000, 50_000),
        cacheable: false,
        image: false,
        accepts_post: false,
        // Some clients do not percent-encode what they send.
        queries: &[
            "q=running+shoes",
            "q=t%C3%AAnis&page=3",
            r#"q="trail running""#,
            r"q=AC\DC+t-shirt",
        ],
    },
    Page {
        path: "/api/v1/cart",
        content_type: "application/json",
        body_bytes: (300, 4_000),
        cacheable: false,
        image: false,
        accepts_post: true,
        queries: &[],
    },
    Page {
        path: "/api/v1/products",
        content_type: "application/json",
        body_bytes: (2_000, 40_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["category=running&limit=24", "ids=1042,1043,1044"],
    },
    Page {
        path: "/static/js/app.3f9a1c.js",
        content_type: "application/javascript",
        body_bytes: (80_000, 240_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/static/css/main.8b2e4d.css",
        content_type: "text/css",
        body_bytes: (20_000, 60_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/images/hero-banner.jpg",
        content_type: "image/jpeg",
        body_bytes: (90_000, 300_000),
        cacheable: true,
        image: true,
        accepts_post: false,
        queries: &["ims=1280x", "ims=640x360"],
    },
    Page {
        path: "/images/products/trail-runner-blue.webp",
        content_type: "image/webp",
        body_bytes: (20_000, 80_000),
        cacheable: true,
        image: true,
        accepts_post: false,
        queries: &["ims=300x300"],
    },
    Page {
        path: "/fonts/inter-var.woff2",
        content_type: "font/woff2",
        body_bytes: (40_000, 100_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/favicon.ico",
        content_type: "image/x-icon",
        body_bytes: (1_000, 16_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/robots.txt",
        content_type: "text/plain",
        body_bytes: (100, 800),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
];

/// How the origin answers an attack the WAF let through (its path and query come from
/// [`ATTACKS`]).
pub(super) const ATTACK_TARGET_PAGE: Page = Page {
    path: "",
    content_type: "text/html; charset=utf-8",
    body_bytes: (2_000, 20_000),
    cacheable: false,
    image: false,
    accepts_post: true,
    queries: &[],
};

/// An attack attempt, with what the WAF finds in it.
pub(super) struct Attack {
    pub(super) family: &'static str,
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    /// As sent, percent-encoded (mostly).
    pub(super) query: &'static str,
    /// The decoded arguments.
    pub(super) args: &'static str,
    /// The violations found, as JSON.
    pub(super) matched: &'static str,
    pub(super) score: &'static str,
    pub(super) user_agent: &'static str,
}

pub(super) const ATTACKS: &[Attack] = &[
    Attack {
        family: "SQL",
        method: "GET",
        path: "/search",
        query: "q=%27%20OR%201%3D1--",
        args: "q=' OR 1=1--",
        matched: r#"{"zone":"ARGS","id":"1000","var_name":"q"}"#,
        score: "8",
        user_agent: "sqlmap/1.8.2#stable (https://sqlmap.org)",
    },
    Attack {
        family: "SQL",
        method: "GET",
        path: "/products",
        query: "id=1%20UNION%20SELECT%20username,password%20FROM%20users",
        args: "id=1 UNION SELECT username,password FROM users",
        matched: r#"{"zone":"ARGS","id":"1000","var_name":"id"}"#,
        score: "12",
        user_agent: "sqlmap/1.8.2#stable (https://sqlmap.org)",
    },
    Attack {
        family: "SQL",
        method: "POST",
        path: "/login",
        query: "user=admin%22%20OR%20%221%22=%221",
        args: r#"user=admin" OR "1"="1"#,
        matched: r#"{"zone":"ARGS","id":"1001","var_name":"user"}"#,
        score: "8",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    },
    Attack {
        family: "XSS",
        method: "POST",
        path: "/comments",
        query: "text=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
        args: "text=<script>alert(document.cookie)</script>",
        matched: r#"{"zone":"ARGS","id":"1302","var_name":"text"}"#,
        score: "8",
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    },
    Attack {
        family: "XSS",
        method: "GET",
        path: "/search",
        query: "q=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
        args: r#"q="><img src=x onerror=alert(1)>"#,
        matched: r#"{"zone":"ARGS","id":"1303","var_name":"q"}"#,
        score: "16",
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    },
    Attack {
        family: "TRAVERSAL",
        method: "GET",
        path: "/download",
        query: "file=..%2F..%2F..%2Fetc%2Fpasswd",
        args: "file=../../../etc/passwd",
        matched: r#"{"zone":"ARGS","id":"1200","var_name":"file"}"#,
        score: "8",
        user_agent: "Nikto/2.5.0",
    },
    Attack {
        family: "TRAVERSAL",
        method: "GET",
        path: "/download",
        query: r"file=..\..\windows\win.ini",
        args: r"file=..\..\windows\win.ini",
        matched: r#"{"zone":"ARGS","id":"1205","var_name":"file"}"#,
        score: "8",
        user_agent: "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    },
];

pub(super) const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://t.co/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "android-app://com.google.android.gm/",
];

/// An edge server and the location (stream) it belongs to.
pub(super) struct Edge {
    pub(super) address: &'static str,
    pub(super) stream: &'static str,
}

pub(super) const EDGES: &[Edge] = &[
    Edge {
        address: "198.51.100.12",
        stream: "1181",
    },
    Edge {
        address: "198.51.100.13",
        stream: "1181",
    },
    Edge {
        address: "198.51.100.40",
        stream: "1187",
    },
    Edge {
        address: "203.0.113.5",
        stream: "2204",
    },
    Edge {
        address: "203.0.113.6",
        stream: "2204",
    },
];

pub(super) const ORIGINS: &[&str] = &["192.0.2.10:443", "192.0.2.11:443", "192.0.2.12:443"];

pub(super) struct Tls {
    pub(super) protocol: &'static str,
    pub(super) cipher: &'static str,
}

/// The first [`TLS_1_3_SETUPS`] are TLS 1.3.
pub(super) const TLS_SETUPS: &[Tls] = &[
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_128_GCM_SHA256",
    },
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
    },
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_CHACHA20_POLY1305_SHA256",
    },
    Tls {
        protocol: "TLSv1.2",
        cipher: "ECDHE-RSA-AES128-GCM-SHA256",
    },
    Tls {
        protocol: "TLSv1.2",
        cipher: "ECDHE-ECDSA-AES256-GCM-SHA384",
    },
];
pub(super) const TLS_1_3_SETUPS: usize = 3;
