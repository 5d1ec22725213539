//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's format.

use serde::Serialize;

/// One model as OpenAI lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Model<'a> {
    pub id: &'a str,
    pub owned_by: &'a str,
}

#[derive(Serialize)]
struct ModelObject<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

impl<'a> From<&Model<'a>> for ModelObject<'a> {
    fn from(model: &Model<'a>) -> Self {
        Self {
            id: model.id,
            object: "model",
            created: 0,
            owned_by: model.owned_by,
        }
    }
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<ModelObject<'a>>,
}

/// `{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`.
pub fn list_body(models: &[Model<'_>]) -> String {
    let list = List {
        object: "list",
        data: models.iter().map(ModelObject::from).collect(),
    };
    serde_json::to_string(&list).unwrap_or_default()
}

/// One model object.
pub fn model_body(model: &Model<'_>) -> String {
    serde_json::to_string(&ModelObject::from(model)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_openai_shape() {
        let body = list_body(&[Model {
            id: "a",
            owned_by: "rill",
        }]);
        assert_eq!(
            body,
            r#"{"object":"list","data":[{"id":"a","object":"model","created":0,"owned_by":"rill"}]}"#
        );
    }
}
