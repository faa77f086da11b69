"""WhatsApp-style questions -> search text: expand the abbreviations leads type and add the
words a price list or a policy would use for what they ask ("quanto custa" -> "preço valor")."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)

# Colloquial spellings -> the word a document would contain.
ABBREVIATIONS = {
    "vc": "você",
    "vcs": "vocês",
    "q": "que",
    "qnto": "quanto",
    "qto": "quanto",
    "qnt": "quanto",
    "qual": "qual",
    "tb": "também",
    "tbm": "também",
    "pq": "porque",
    "hj": "hoje",
    "amanha": "amanhã",
    "sab": "sábado",
    "dom": "domingo",
    "seg": "segunda",
    "hr": "hora",
    "hrs": "horas",
    "msg": "mensagem",
    "insta": "instagram",
    "zap": "whatsapp",
    "wpp": "whatsapp",
    "whats": "whatsapp",
    "tel": "telefone",
    "fone": "telefone",
    "info": "informação",
    "end": "endereço",
    "cartao": "cartão",
    "estac": "estacionamento",
    "orcamento": "orçamento",
}

# What a question means -> words documents use for it (accents don't matter: pt_unaccent).
SYNONYMS = {
    "quanto": ["preço", "valor"],
    "custa": ["preço", "valor"],
    "custo": ["preço", "valor"],
    "caro": ["preço", "valor"],
    "barato": ["preço", "valor", "promoção"],
    "preco": ["valor"],
    "valor": ["preço"],
    "abre": ["horário", "funcionamento", "aberto"],
    "abrem": ["horário", "funcionamento", "aberto"],
    "fecha": ["horário", "funcionamento"],
    "fecham": ["horário", "funcionamento"],
    "horario": ["funcionamento", "atendimento"],
    "onde": ["endereço", "localização"],
    "fica": ["endereço", "localização"],
    "chegar": ["endereço", "localização", "acesso"],
    "estacionar": ["estacionamento", "vaga"],
    "carro": ["estacionamento", "vaga"],
    "parcela": ["parcelamento", "parcelas", "cartão", "pagamento"],
    "parcelar": ["parcelamento", "parcelas", "cartão", "pagamento"],
    "parcelo": ["parcelamento", "parcelas", "cartão", "pagamento"],
    "pagar": ["pagamento", "pix", "cartão"],
    "pix": ["pagamento"],
    "plano": ["convênio", "planos"],
    "convenio": ["plano", "convênios"],
    "aceita": ["aceitamos", "aceitos"],
    "aceitam": ["aceitamos", "aceitos"],
    "entrega": ["entregamos", "frete", "delivery"],
    "entregam": ["entrega", "frete", "delivery"],
    "frete": ["entrega"],
    "marcar": ["agendamento", "agendar", "consulta"],
    "agendar": ["agendamento", "marcar"],
    "desconto": ["promoção", "desconto"],
    "garantia": ["garantia", "troca"],
    "trocar": ["troca", "devolução"],
    "devolver": ["devolução", "troca"],
    "cancelar": ["cancelamento"],
}


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")


def expand_query(question: str) -> tuple[str, str]:
    """(the question's own words, with abbreviations spelled out; the added related words).
    The search ORs all of them but ranks matches of the lead's own words first."""
    own: list[str] = []
    extra: list[str] = []
    for w in _WORD.findall(question.lower()):
        base = ABBREVIATIONS.get(_plain(w), w)
        own.append(base)
        extra.extend(SYNONYMS.get(_plain(base), []))
    plain_own = {_plain(w) for w in own}
    seen: set[str] = set()
    added = [w for w in extra if _plain(w) not in plain_own and not (w in seen or seen.add(w))]
    return " ".join(own), " ".join(added)
