#include "shared/model/text.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <utf8proc.h>

#include "shared/core/error.h"
#include "shared/model/proposal.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::model::count_characters;
using ergon::model::fold_for_search;
using ergon::model::is_valid_utf8;
using ergon::model::normalise_text;
using ergon::model::trim;

namespace {

std::string normal(std::string_view text) {
  auto out = normalise_text(text);
  INFO((out ? std::string() : out.error().message));
  REQUIRE(out.has_value());
  return *out;
}

}  // namespace

TEST_CASE("trim removes ASCII spaces, tabs and line breaks at both ends only", "[text]") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("\n\tΠλατεία ") == "Πλατεία");
  CHECK(trim("   ").empty());
  CHECK(trim("").empty());
  CHECK(trim("x") == "x");
}

TEST_CASE("well-formed UTF-8 is told apart from broken bytes", "[text]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("Οδοποιία €"));
  auto bad = GENERATE(as<std::string>{}, "\xFF", "abc\xC3", "\xC0\xAF", "\xCE", "\x80",
                      "\xED\xA0\x80", "\xF8\x88\x80\x80\x80");
  CAPTURE(bad);
  CHECK_FALSE(is_valid_utf8(bad));
}

TEST_CASE("characters are counted as code points, not bytes", "[text]") {
  CHECK(count_characters("") == 0);
  CHECK(count_characters("abc") == 3);
  CHECK(count_characters("Οδοποιία") == 8);
  CHECK(count_characters("1.500 €") == 7);
}

TEST_CASE("a decomposed accent is composed to NFC", "[text]") {
  // ι (U+03B9) followed by the combining acute U+0301 becomes ί (U+03AF).
  std::string decomposed = "\xCE\xB9\xCC\x81";
  CHECK(normal(decomposed) == "\xCE\xAF");
  CHECK(normal("\xCE\x9F\xCE\xB4\xCE\xBF\xCF\x80\xCE\xBF\xCE\xB9\xCE\xB9\xCC\x81\xCE\xB1") ==
        "Οδοποιία");
  // ι + combining diaeresis + combining acute becomes ΐ (U+0390).
  CHECK(normal("\xCE\xB9\xCC\x88\xCC\x81") == "\xCE\x90");
}

TEST_CASE("text is trimmed and inner whitespace collapses to one space", "[text]") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"  Πλατεία Ελευθερίας  ", "Πλατεία Ελευθερίας"},
      {"Πλατεία   Ελευθερίας", "Πλατεία Ελευθερίας"},
      {"Πλατεία\tΕλευθερίας", "Πλατεία Ελευθερίας"},
      {"Πλατεία\r\n\r\nΕλευθερίας", "Πλατεία Ελευθερίας"},
      {"Πλατεία\xC2\xA0\xC2\xA0Ελευθερίας", "Πλατεία Ελευθερίας"},  // no-break spaces
      {"\xC2\xA0Πλατεία\xE2\x80\xAF", "Πλατεία"},                   // leading NBSP, trailing NNBSP
      {"a \t\n\v\f b", "a b"},
      {"\xE3\x80\x80"
       "a\xE3\x80\x80"
       "b",
       "a b"},  // ideographic space (category Zs)
      {"", ""},
      {" \t\n ", ""},
  }));
  CAPTURE(text);
  CHECK(normal(text) == expected);
}

// Bug: text.cpp's is_space misses the Unicode line and paragraph separators (categories Zl
// and Zp), so they stay in the stored text although they are line breaks.
TEST_CASE("Unicode line and paragraph separators collapse like other line breaks", "[text]") {
  CHECK(normal("Πλατεία\xE2\x80\xA8\xCE\x95λευθερίας") == "Πλατεία Ελευθερίας");  // U+2028
  CHECK(normal("Πλατεία\xE2\x80\xA9\xCE\x95λευθερίας") == "Πλατεία Ελευθερίας");  // U+2029
}

TEST_CASE("zero-width characters and soft hyphens are dropped", "[text]") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"Οδο\xE2\x80\x8Bποιία", "Οδοποιία"},  // U+200B zero-width space
      {"Οδο\xC2\xADποιία", "Οδοποιία"},      // U+00AD soft hyphen
      {"Οδο\xE2\x80\x8Cποιία", "Οδοποιία"},  // U+200C zero-width non-joiner
      {"Οδο\xE2\x80\x8Dποιία", "Οδοποιία"},  // U+200D zero-width joiner
      {"Οδο\xE2\x81\xA0ποιία", "Οδοποιία"},  // U+2060 word joiner
      {"\xEF\xBB\xBFΟδοποιία", "Οδοποιία"},  // U+FEFF byte order mark
      {"a \xE2\x80\x8B b", "a b"},           // between spaces: still one space
      {"\xE2\x80\x8B", ""},
  }));
  CAPTURE(text);
  CHECK(normal(text) == expected);
}

TEST_CASE("normalising twice changes nothing", "[text]") {
  auto text = GENERATE(as<std::string>{}, "  Ανάπλαση \t πλατείας\xC2\xAD  ",
                       "\xCE\xB9\xCC\x81 \xE2\x80\x8B x", "Ασφαλτοστρώσεις οδών");
  auto once = normal(text);
  CHECK(normal(once) == once);
}

TEST_CASE("a control character is refused naming it and its position", "[text]") {
  auto [text, position, hex] = GENERATE(table<std::string, int, std::string>({
      {"ab\x01"
       "c",
       3, "U+0001"},
      {"\x7F", 1, "U+007F"},
      {"Οδός\x1B", 5, "U+001B"},
      {"a\xC2\x9B", 2, "U+009B"},  // CSI, a C1 control (NEL, U+0085, is a line break)
      // bidirectional overrides and isolates ("Trojan Source"): RLO, LRE, PDF, RLI, PDI
      {"Ποσό \xE2\x80\xAE"
       "001",
       6, "U+202E"},
      {"\xE2\x80\xAAx", 1, "U+202A"},
      {"x\xE2\x80\xAC", 2, "U+202C"},
      {"ab\xE2\x81\xA7"
       "c",
       3, "U+2067"},
      {"abc\xE2\x81\xA9", 4, "U+2069"},
  }));
  CAPTURE(text);
  auto out = normalise_text(text);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(out.error().message, Contains("control character") && Contains(hex) &&
                                      Contains("at character " + std::to_string(position)));
}

TEST_CASE("invalid UTF-8 is refused with a message that says so", "[text]") {
  auto bad = GENERATE(as<std::string>{}, "Οδοποι\xFF", "\xC3", "abc\xC0\xAF");
  auto out = normalise_text(bad);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(out.error().message, Contains("UTF-8"));
}

TEST_CASE("search folding removes case, tonos, dialytika and the final sigma", "[text]") {
  CHECK(fold_for_search("ΠΛΑΤΕΙΑΣ Ελευθερίας") == fold_for_search("πλατειας ελευθεριας"));
  CHECK(fold_for_search("Πλατείας") == fold_for_search("ΠΛΑΤΕΊΑΣ"));
  CHECK_THAT(fold_for_search("Αγροτική Οδοποιία"), Contains(fold_for_search("οδοποιια")));
  CHECK(fold_for_search("Οδοποιία") == "οδοποιια");
  CHECK(fold_for_search("ϊ") == "ι");
  CHECK(fold_for_search("ΐ") == "ι");
  CHECK(fold_for_search("Ϊ") == "ι");
  CHECK(fold_for_search("ΰ") == "υ");
  CHECK(fold_for_search("ς") == "σ");
  CHECK(fold_for_search("Ά Έ Ή Ί Ό Ύ Ώ") == "α ε η ι ο υ ω");
  CHECK(fold_for_search("Café") == "cafe");
}

TEST_CASE("search folding also normalises the text first", "[text]") {
  CHECK(fold_for_search("  ΠΛΑΤΕΙΑ\t\xE2\x80\x8B Ελευθερίας ") == "πλατεια ελευθεριασ");
  CHECK(fold_for_search("\xCE\x99\xCC\x81") == "ι");  // decomposed Ί
}

TEST_CASE("text that cannot be normalised folds to the empty string", "[text]") {
  CHECK(fold_for_search("abc\xFF").empty());
  CHECK(fold_for_search("ab\x01").empty());
}

TEST_CASE("a word of Greek and Latin letters is refused, naming the Latin letters", "[text]") {
  using ergon::model::check_one_script_per_word;
  for (const char* fine : {"Ανάπλαση πλατείας", "LED φωτισμός", "γήπεδο 5Χ5", "Φιλόδημος ΙΙ",
                           "e-mobility", "Τ.Κ. Αγίου Σύλλα", "", "ΑμΕΑ", "Café Ωδείο"}) {
    INFO(fine);
    CHECK(check_one_script_per_word(fine));
  }
  auto one = check_one_script_per_word("Mελέτη");
  REQUIRE_FALSE(one);
  CHECK(one.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(one.error().message, Contains("'Mελέτη'") && Contains("'M' at character 1"));
  auto two = check_one_script_per_word("οδός Boυτών, Mελέτη");
  REQUIRE_FALSE(two);
  CHECK_THAT(two.error().message,
             Contains("'B' at character 6, 'o' at character 7") && Contains("'M' at character 14"));
  // A decomposed accent stays inside its word.
  CHECK_FALSE(check_one_script_per_word("Boυ\xCC\x81τών"));
}

TEST_CASE("a single Greek letter reads as the Latin capital it looks like", "[text]") {
  using ergon::model::latin_look_alike;
  CHECK(latin_look_alike("Α") == "A");
  CHECK(latin_look_alike("β") == "B");
  CHECK(latin_look_alike("Γ") == "Γ");  // no Latin look-alike
  CHECK(latin_look_alike("ΑΒ") == "ΑΒ");
  CHECK(ergon::model::parse_enum<ergon::model::Priority>("Β").value() ==
        ergon::model::Priority::kB);
}

TEST_CASE("text already in stored form comes back unchanged, as NFC leaves it", "[text]") {
  // normalise_text returns such text without utf8proc; each character of that fast path must be
  // one NFC keeps, so the fast path and the full one agree.
  auto nfc = [](const std::string& text) {
    auto* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
    REQUIRE(out != nullptr);
    std::string result(reinterpret_cast<char*>(out));
    std::free(out);
    return result;
  };
  std::vector<char32_t> plain;
  for (char32_t c = 0x21; c <= 0x7E; ++c) plain.push_back(c);
  plain.push_back(0x0386);
  for (char32_t c = 0x0388; c <= 0x03CE; ++c) plain.push_back(c);
  for (char32_t c : plain) {
    utf8proc_uint8_t buf[4];
    auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
    std::string text =
        "x" + std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n)) + " y";
    INFO("U+" << std::hex << static_cast<unsigned>(c));
    CHECK(nfc(text) == text);
    CHECK(normal(text) == text);
  }
  // What the fast path must not take: doubled, leading and trailing spaces, a decomposed
  // accent, the Greek question mark and ano teleia (NFC maps them to ';' and '·').
  CHECK(normal("α  β") == "α β");
  CHECK(normal(" α") == "α");
  CHECK(normal("α ") == "α");
  CHECK(normal("\xCE\xB1\xCC\x81") == "ά");
  CHECK(normal("τι\xCD\xBE") == "τι;");
  CHECK(normal("α\xCE\x87") == "α\xC2\xB7");
}

TEST_CASE("search folding of text in stored form agrees with utf8proc for every pair of letters",
          "[text]") {
  // fold_for_search folds such text letter by letter from a table; folding the whole text with
  // utf8proc must give the same, for every two letters of the set side by side or apart.
  auto full_fold = [](const std::string& text) {
    utf8proc_uint8_t* out = nullptr;
    auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                          static_cast<utf8proc_ssize_t>(text.size()), &out,
                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                         UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK));
    std::string result = n < 0 ? std::string() : std::string(reinterpret_cast<char*>(out));
    std::free(out);
    return result;
  };
  std::vector<std::string> letters;
  auto add = [&](char32_t c) {
    utf8proc_uint8_t buf[4];
    auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
    letters.emplace_back(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  };
  for (char32_t c = 0x21; c <= 0x7E; ++c) add(c);
  add(0x0386);
  for (char32_t c = 0x0388; c <= 0x03CE; ++c) add(c);
  std::size_t differing = 0;
  for (const auto& a : letters)
    for (const auto& b : letters)
      for (const char* between : {"", " "}) {
        auto text = a;
        text.append(between).append(b);
        if (fold_for_search(text) != full_fold(text) && ++differing <= 5)
          FAIL_CHECK("'" << text << "' folds differently");
      }
  CHECK(differing == 0);
}
