// answer.cpp: budgeted parsing and printable documents.
#include "cli/client/answer.hpp"

#include <vector>

#include "cli/client/terminal.hpp"

namespace vpo::cli::client {
namespace {

struct over_budget {
  std::string why;
};

}  // namespace

std::optional<json> parse_answer(const std::string& body, std::string& why) {
  std::vector<std::size_t> keys;  // keys so far in each open object or array
  std::size_t comparisons = 0;
  json::parser_callback_t budget = [&](int, json::parse_event_t event, json&) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (keys.size() >= static_cast<std::size_t>(max_answer_depth))
          throw over_budget{"it nests deeper than " + std::to_string(max_answer_depth) + " levels"};
        keys.push_back(0);
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty()) comparisons += keys.back()++;
        if (comparisons > max_key_comparisons) throw over_budget{"its objects have too many keys"};
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    json doc = json::parse(body, budget, false);
    if (doc.is_discarded()) {
      why = "it is not JSON";
      return std::nullopt;
    }
    return doc;
  } catch (const over_budget& e) {
    why = e.why;
    return std::nullopt;
  }
}

void make_printable(json& doc) {
  // Depth is bounded by parse_answer (and our own documents are shallow): plain recursion.
  if (doc.is_string()) {
    doc = for_terminal(doc.get_ref<const std::string&>());
  } else if (doc.is_array()) {
    for (auto& v : doc) make_printable(v);
  } else if (doc.is_object()) {
    json clean = json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      json v = std::move(it.value());
      make_printable(v);
      clean[for_terminal(it.key())] = std::move(v);
    }
    doc = std::move(clean);
  }
}

std::string json_line(const json& doc) {
  return json_escape_invisible(doc.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace vpo::cli::client
