"""Every sentence the engine says to a citizen, in Vietnamese (default) and English.

Voice (see the README): the citizen is "Ông/Bà"; errors are the system's fault, never the citizen's; one idea per
message. Channels add their own words (greetings, button captions) from the same kind of catalogue.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "progress": {"vi": "Câu {number}/{total}", "en": "Question {number}/{total}"},
    "unclear_rating": {
        "vi": "Chúng tôi chưa hiểu câu trả lời, Ông/Bà vui lòng chọn một trong các mức dưới đây "
              "hoặc gõ số từ 1 đến 5.",
        "en": "Sorry, we did not understand that answer. Please choose one of the levels below "
              "or type a number from 1 to 5.",
    },
    "unclear_choice": {
        "vi": "Chúng tôi chưa hiểu câu trả lời, Ông/Bà vui lòng chọn một trong các phương án dưới đây "
              "hoặc gõ số thứ tự của phương án.",
        "en": "Sorry, we did not understand that answer. Please choose one of the options below "
              "or type its number.",
    },
    "empty_text": {
        "vi": "Ông/Bà vui lòng gõ ý kiến của mình, hoặc gõ “bỏ qua” nếu không có ý kiến.",
        "en": "Please type your comment, or type “skip” if you have none.",
    },
    "unsupported": {
        "vi": "Xin lỗi, chúng tôi chỉ nhận câu trả lời bằng chữ hoặc số (hoặc bằng nút bấm, nếu có).",
        "en": "Sorry, we can only take answers as text or numbers (or a button press, where there are buttons).",
    },
    "required": {
        "vi": "Câu hỏi này cần Ông/Bà trả lời để tiếp tục.",
        "en": "This question needs an answer before we continue.",
    },
    "na_not_allowed": {
        "vi": "Câu hỏi này không có lựa chọn “Không áp dụng”, Ông/Bà vui lòng chọn một phương án.",
        "en": "This question has no “Not applicable” option; please choose one of the options.",
    },
    "first_question": {
        "vi": "Đây là câu hỏi đầu tiên.",
        "en": "This is the first question.",
    },
    "stale": {
        "vi": "Câu hỏi này đã qua. Ông/Bà vui lòng trả lời câu hỏi hiện tại.",
        "en": "That question is already behind us. Please answer the current one.",
    },
    "language_unknown": {
        "vi": "Xin lỗi, khảo sát này chỉ có tiếng Việt và tiếng Anh.",
        "en": "Sorry, this survey is only available in Vietnamese and English.",
    },
    "language_set": {"vi": "Đã chuyển sang tiếng Việt.", "en": "Switched to English."},
    "text_cut": {
        "vi": "Ý kiến của Ông/Bà dài hơn {limit} ký tự nên chúng tôi chỉ ghi nhận {limit} ký tự đầu.",
        "en": "Your comment was longer than {limit} characters, so we kept the first {limit}.",
    },
    "current_answer": {"vi": "Câu trả lời trước đó: {label}", "en": "Your earlier answer: {label}"},
    "help": {
        "vi": "Ông/Bà gõ số của phương án hoặc bấm nút của phương án, nếu có (với các mức hài lòng, 5 là rất "
              "hài lòng, 1 là rất không hài lòng). Gõ “quay lại” để sửa câu trước, "
              "“bỏ qua” để bỏ qua câu không bắt buộc, “không áp dụng” khi nội dung không liên quan đến "
              "Ông/Bà, “English” để đổi ngôn ngữ, “hủy” để dừng khảo sát.",
        "en": "Type an option's number or press its button, where there is one (for the satisfaction levels, "
              "5 is very satisfied and 1 very dissatisfied). Type “back” to change the previous answer, "
              "“skip” to skip a question that is not required, “na” when it does not apply to you, "
              "“tiếng Việt” to switch language, “cancel” to stop the survey.",
    },
    "confirm_cancel": {
        "vi": "Ông/Bà có chắc muốn dừng khảo sát? Các câu trả lời chưa hoàn thành sẽ không được ghi nhận.",
        "en": "Do you really want to stop the survey? Unfinished answers will not be recorded.",
    },
    "resumed": {"vi": "Chúng ta tiếp tục khảo sát.", "en": "Let us continue the survey."},
    "cancelled": {
        "vi": "Đã dừng khảo sát. Cảm ơn Ông/Bà đã dành thời gian.",
        "en": "The survey has been stopped. Thank you for your time.",
    },
    "completed": {
        "vi": "Cảm ơn Ông/Bà đã hoàn thành khảo sát! Ý kiến của Ông/Bà được tổng hợp ẩn danh để cơ quan "
              "nâng cao chất lượng phục vụ.",
        "en": "Thank you for completing the survey! Your answers are combined anonymously with others "
              "to help the centre improve its service.",
    },
    "already_completed": {
        "vi": "Ông/Bà đã hoàn thành khảo sát này. Xin cảm ơn!",
        "en": "You have already completed this survey. Thank you!",
    },
    "already_cancelled": {
        "vi": "Khảo sát này đã dừng.",
        "en": "This survey has been stopped.",
    },
    # Captions of the commands, for buttons and for the terminal's list of what can be typed.
    "cmd_back": {"vi": "« Quay lại", "en": "« Back"},
    "cmd_skip": {"vi": "Bỏ qua", "en": "Skip"},
    "cmd_na": {"vi": "Không áp dụng", "en": "Not applicable"},
    "cmd_help": {"vi": "Trợ giúp", "en": "Help"},
    "cmd_cancel": {"vi": "Hủy", "en": "Cancel"},
    "cmd_yes": {"vi": "Có, dừng khảo sát", "en": "Yes, stop the survey"},
    "cmd_no": {"vi": "Không, tiếp tục", "en": "No, continue"},
    "cmd_lang_vi": {"vi": "Tiếng Việt", "en": "Tiếng Việt"},
    "cmd_lang_en": {"vi": "English", "en": "English"},
}


def say(key: str, language: str, **values: object) -> str:
    """The message ``key`` in ``language`` (Vietnamese when the language is unknown), filled with ``values``."""
    texts = MESSAGES[key]
    return texts.get(language, texts["vi"]).format(**values)
