"""What the service layer says to a citizen around the survey itself (greeting, invitation problems), vi and en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "welcome": {
        "vi": "{centre}{service}. Ý kiến của Ông/Bà được ghi nhận ẩn danh: chúng tôi không lưu tên, số điện thoại "
              "hay tài khoản Zalo/Telegram của Ông/Bà cùng câu trả lời.",
        "en": "{centre}{service}. Your answers are anonymous: we do not keep your name, phone number or "
              "Zalo/Telegram account with them.",
    },
    "service": {"vi": " – dịch vụ: {name}", "en": " – service: {name}"},
    "ask_code": {
        "vi": "Xin chào! Đây là khảo sát sự hài lòng về sự phục vụ hành chính. Ông/Bà vui lòng gửi mã khảo sát "
              "in trên giấy hẹn trả kết quả (8 ký tự, ví dụ ABCD-EFGH).",
        "en": "Hello! This is the satisfaction survey on public administrative services. Please send the survey "
              "code printed on your receipt (8 characters, for example ABCD-EFGH).",
    },
    "unknown": {
        "vi": "Chúng tôi không tìm thấy mã khảo sát này. Ông/Bà vui lòng kiểm tra lại mã in trên giấy hẹn "
              "(8 ký tự, ví dụ ABCD-EFGH).",
        "en": "We could not find this survey code. Please check the code printed on your receipt "
              "(8 characters, for example ABCD-EFGH).",
    },
    "expired": {
        "vi": "Mã khảo sát này đã hết hạn. Cảm ơn Ông/Bà đã quan tâm.",
        "en": "This survey code has expired. Thank you for your interest.",
    },
    "used": {
        "vi": "Khảo sát của mã này đã được trả lời. Cảm ơn Ông/Bà đã đóng góp ý kiến!",
        "en": "The survey for this code has already been answered. Thank you for your feedback!",
    },
    "in_progress": {
        "vi": "Mã khảo sát này đang được dùng trong một cuộc trò chuyện khác.",
        "en": "This survey code is being used in another chat.",
    },
    "resumed": {
        "vi": "Ông/Bà đang trả lời dở khảo sát; chúng ta tiếp tục từ câu hỏi hiện tại.",
        "en": "You have a survey in progress; let us continue from the current question.",
    },
    "session_expired": {
        "vi": "Khảo sát trước của Ông/Bà đã quá thời gian trả lời nên chưa được ghi nhận. Ông/Bà có thể gửi lại "
              "mã khảo sát để bắt đầu lại.",
        "en": "Your earlier survey timed out and was not recorded. You can send the survey code again to "
              "start over.",
    },
    "not_open": {
        "vi": "Trung tâm này chỉ nhận khảo sát qua mã in trên giấy hẹn. Ông/Bà vui lòng gửi mã khảo sát.",
        "en": "This centre takes surveys only with the code printed on the receipt. Please send the code.",
    },
}


def say(key: str, language: str, **values: object) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["vi"]).format(**values)
