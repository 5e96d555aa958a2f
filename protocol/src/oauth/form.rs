//! The parameters of an OAuth request: a form body (`application/x-www-form-urlencoded`) or a
//! query string, read by the rules of RFC 6749 §3.1: a parameter sent without a value is as if
//! omitted, and none may be sent twice.

/// A request's parameters, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

/// A parameter sent more than once: the request is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated;

impl Params {
    /// Reads a form body or a query string (without its `?`). Bytes that are not UTF-8 once
    /// decoded become U+FFFD, which no value this provider accepts contains.
    pub fn parse(encoded: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(encoded)
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`: `None` if it was not sent (or sent empty), [`Repeated`] if it was
    /// sent more than once.
    pub fn one(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, value)| value.as_str());
        match values.next() {
            Some(_) => Err(Repeated),
            None => Ok(first),
        }
    }

    /// Whether any parameter was sent more than once.
    pub fn any_repeated(&self) -> bool {
        self.0
            .iter()
            .enumerate()
            .any(|(i, (name, _))| self.0[..i].iter().any(|(earlier, _)| earlier == name))
    }

    /// Whether `name` was sent (with a value).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// `url` with `params` added to its query, form-encoded: a redirect URI's own query is kept.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name, value);
    }
    let query = serializer.finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// `value` as one `application/x-www-form-urlencoded` component, as a client encodes its
/// Basic credentials (RFC 6749 §2.3.1) and as this decodes them.
pub fn decode_component(value: &str) -> String {
    form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, decoded)| decoded.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_and_empty_ones_omitted() {
        let params = Params::parse(b"a=1&b=&c=x%20y+z&d=%E4%BD%A0");
        assert_eq!(params.one("a"), Ok(Some("1")));
        assert_eq!(params.one("b"), Ok(None));
        assert_eq!(params.one("c"), Ok(Some("x y z")));
        assert_eq!(params.one("d"), Ok(Some("你")));
        assert_eq!(params.one("e"), Ok(None));
        assert!(!params.any_repeated());
    }

    #[test]
    fn a_parameter_sent_twice_is_repeated() {
        let params = Params::parse(b"state=a&scope=openid&state=b");
        assert_eq!(params.one("state"), Err(Repeated));
        assert_eq!(params.one("scope"), Ok(Some("openid")));
        assert!(params.any_repeated());
        // Sent empty the second time: as if omitted, so not repeated.
        assert_eq!(Params::parse(b"state=a&state=").one("state"), Ok(Some("a")));
    }

    #[test]
    fn redirects_keep_the_uris_own_query() {
        assert_eq!(
            with_query(
                "https://app.example/cb",
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://app.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://app.example/cb?tenant=1", &[("code", "c")]),
            "https://app.example/cb?tenant=1&code=c"
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(decode_component("my%3Aclient+1"), "my:client 1");
        assert_eq!(decode_component("plain"), "plain");
    }
}
