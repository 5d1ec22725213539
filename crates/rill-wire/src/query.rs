//! Query strings, read so that a bad parameter gets a clear error: the resume forms'
//! `?after=N`, `?stream=true&starting_after=N`.

use rill_core::Error;

/// The query parameters a route reads, from `query`. Others are ignored (a client may
/// add its own, a cache-buster say); one given twice is refused, since either reading
/// of it would be a guess.
pub struct Query(Vec<(&'static str, String)>);

impl Query {
    pub fn parse(query: Option<&str>, known: &[&'static str]) -> Result<Self, Error> {
        let mut found: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let Some(known) = known.iter().find(|k| **k == name) else {
                continue;
            };
            if found.iter().any(|(n, _)| n == known) {
                return Err(Error::invalid_request(format!(
                    "the query gives `{known}` more than once"
                ))
                .with_param(*known));
            }
            found.push((known, value.into_owned()));
        }
        Ok(Self(found))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A frame number (`after`, `starting_after`): a whole number, 0 or more.
    pub fn frame(&self, name: &'static str) -> Result<Option<u64>, Error> {
        self.get(name)
            .map(|value| frame_number(value, name))
            .transpose()
    }

    /// `true` or `false`.
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, Error> {
        self.get(name)
            .map(|value| match value {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(Error::invalid_request(format!(
                    "`{name}` must be `true` or `false`, not `{}`",
                    other.escape_default()
                ))
                .with_param(name)),
            })
            .transpose()
    }
}

/// A frame id as a client gives it back (`Last-Event-ID`, `?after=`).
pub fn frame_number(id: &str, param: &str) -> Result<u64, Error> {
    id.trim().parse().map_err(|_| {
        Error::invalid_request(format!(
            "`{}` is not a frame id of this stream: ids are the numbers in its `id:` lines, 0 or more",
            id.escape_default()
        ))
        .with_param(param)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = Query::parse(Some("after=3&x=1&stream=true"), &["after", "stream"]).unwrap();
        assert_eq!(q.frame("after").unwrap(), Some(3));
        assert_eq!(q.boolean("stream").unwrap(), Some(true));
        assert!(Query::parse(Some("after=1&after=2"), &["after"]).is_err());
        for bad in ["after=abc", "after=-1", "after="] {
            let q = Query::parse(Some(bad), &["after"]).unwrap();
            assert_eq!(
                q.frame("after").unwrap_err().param.as_deref(),
                Some("after")
            );
        }
        let q = Query::parse(Some("stream=maybe"), &["stream"]).unwrap();
        assert!(q.boolean("stream").unwrap_err().message.contains("maybe"));
    }
}
