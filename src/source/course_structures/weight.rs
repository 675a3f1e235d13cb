//! A problem's default weight from its OLX: what capa's maximum score counts, the answer
//! inputs inside each response. Parsed as XML, so tags in comments, CDATA or attribute
//! values never count.

use quick_xml::events::Event;
use quick_xml::Reader;

/// capa's response types (xmodule/capa/responsetypes.py).
const RESPONSES: &[&str] = &[
    "annotationresponse",
    "choiceresponse",
    "choicetextresponse",
    "coderesponse",
    "customresponse",
    "externalresponse",
    "formularesponse",
    "imageresponse",
    "javascriptresponse",
    "multiplechoiceresponse",
    "numericalresponse",
    "optionresponse",
    "schematicresponse",
    "stringresponse",
    "symbolicresponse",
    "truefalseresponse",
];

/// capa's input types (xmodule/capa/inputtypes.py): each one is an answer field.
const INPUTS: &[&str] = &[
    "annotationinput",
    "checkboxgroup",
    "checkboxtextgroup",
    "chemicalequationinput",
    "choicegroup",
    "choicetextgroup",
    "crystallography",
    "designprotein2dinput",
    "drag_and_drop_input",
    "editageneinput",
    "editamoleculeinput",
    "formulaequationinput",
    "imageinput",
    "javascriptinput",
    "jsinput",
    "matlabinput",
    "optioninput",
    "radiogroup",
    "radiotextgroup",
    "schematic",
    "textbox",
    "textline",
    "vsepr_input",
];

/// The number of answer inputs inside response elements; a response whose inputs are of
/// no known type still counts once. Errors on XML that is not well formed.
pub fn count_inputs(xml: &str) -> Result<u32, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    // For each open element: whether it is a response.
    let mut open: Vec<bool> = Vec::new();
    // Inputs found in each open response, innermost last.
    let mut responses: Vec<u32> = Vec::new();
    let mut total = 0u32;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                let is_response = is(RESPONSES, name);
                if !is_response && is(INPUTS, name) {
                    if let Some(n) = responses.last_mut() {
                        *n += 1;
                    }
                }
                if is_response {
                    responses.push(0);
                }
                open.push(is_response);
            }
            Event::Empty(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if is(RESPONSES, name) {
                    total += 1;
                } else if is(INPUTS, name) {
                    if let Some(n) = responses.last_mut() {
                        *n += 1;
                    }
                }
            }
            Event::End(_) => {
                let closes_response = open.pop() == Some(true);
                if closes_response {
                    total += responses.pop().unwrap_or(0).max(1);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(format!("{} element(s) not closed", open.len()));
    }
    Ok(total)
}

fn is(names: &[&str], name: &[u8]) -> bool {
    names
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::count_inputs;

    #[test]
    fn counts_inputs_inside_responses() {
        let xml = r#"<problem>
          <p>Pick one &nbsp; of these</p>
          <multiplechoiceresponse>
            <choicegroup type="MultipleChoice"><choice correct="true">A</choice></choicegroup>
          </multiplechoiceresponse>
          <optionresponse><optioninput options="('a','b')"/><optioninput options="('c')"/></optionresponse>
          <customresponse cfn="check"><textline/><textline/><textline/></customresponse>
        </problem>"#;
        assert_eq!(count_inputs(xml), Ok(6));
    }

    #[test]
    fn comments_cdata_and_attributes_do_not_count() {
        let xml = r#"<problem>
          <!-- <stringresponse><textline/></stringresponse> -->
          <script type="loncapa/python"><![CDATA[ s = "<numericalresponse><textline/>" ]]></script>
          <p title="<choiceresponse>">text</p>
          <stringresponse answer="x"><textline/></stringresponse>
        </problem>"#;
        assert_eq!(count_inputs(xml), Ok(1));
    }

    #[test]
    fn a_response_without_known_inputs_counts_once() {
        assert_eq!(
            count_inputs(
                "<problem><coderesponse><weird/></coderesponse><truefalseresponse/></problem>"
            ),
            Ok(2)
        );
        assert_eq!(
            count_inputs("<problem><p>No question here</p></problem>"),
            Ok(0)
        );
        // Inputs outside any response are not answer fields.
        assert_eq!(count_inputs("<problem><textline/></problem>"), Ok(0));
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(count_inputs("<problem><stringresponse><textline/></problem>").is_err());
        assert!(count_inputs("<problem><stringresponse><textline/>").is_err());
        assert!(count_inputs("<problem></wrong>").is_err());
    }
}
