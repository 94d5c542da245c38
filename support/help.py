"""The help centre's questions, answered in PlugMessage's own words, each
with a link to the place in the panel where the answer is put to use."""

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    slug: str
    question: str
    answer: str
    link_label: str
    link_name: str  # URL name


QUESTIONS = [
    Question(
        "criar-conta",
        _("Como crio minha conta?"),
        _(
            "Na tela de entrada, escolha “Criar conta”, informe e-mail e senha e "
            "confirme o e-mail pelo link que enviamos. Criar a conta não custa nada: "
            "você só paga pelas instâncias que assinar."
        ),
        _("Minha conta"),
        "accounts:profile",
    ),
    Question(
        "teste-gratis",
        _("Como funciona o teste grátis de 2 dias?"),
        _(
            "Toda instância nova funciona por 2 dias sem custo, com todos os recursos. "
            "A página da instância e a lista mostram quanto tempo falta. Terminado o "
            "teste sem assinatura, o número é desconectado, a API recusa envios (erro "
            "402) e as mensagens recebidas deixam de ser repassadas."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "assinar",
        _("Como assino uma instância?"),
        _(
            "Clique em “Assinar” na página da instância ou na lista. Mostramos o preço "
            "mensal, a regra da cobrança pós-paga e pedimos seus dados de cobrança uma "
            "única vez. Uma instância cujo teste já terminou volta a funcionar assim que "
            "é assinada; basta ler um novo QR Code."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "criar-instancia",
        _("Como crio e conecto uma instância?"),
        _(
            "Em Instâncias, clique em “Adicionar”, dê um nome e confirme. Em seguida "
            "aparece um QR Code: no celular do número, abra o WhatsApp, vá em Aparelhos "
            "conectados › Conectar um aparelho e aponte a câmera. A página passa para "
            "“Conectado” sozinha. Sem câmera por perto, use “Conectar com código”."
        ),
        _("Adicionar instância"),
        "instances:create",
    ),
    Question(
        "desconectar",
        _("Como desconecto um número?"),
        _(
            "No menu ⋮ da instância, escolha “Desconectar” e confirme. O WhatsApp do "
            "celular continua funcionando normalmente; só a ligação com a PlugMessage é "
            "desfeita. Para voltar, clique em “Conectar” e leia um novo QR Code."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "um-numero",
        _("Posso usar o mesmo número em duas instâncias?"),
        _(
            "Não. Cada instância representa um número, e um número só fica conectado em "
            "uma instância de cada vez em toda a PlugMessage. Se tentar conectar um "
            "número que já está em outra instância, a leitura é recusada e explicamos o "
            "motivo; desconecte-o de lá primeiro."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "renomear",
        _("Como mudo o nome de uma instância?"),
        _(
            "No menu ⋮ da instância, escolha “Editar”. O nome serve só para você se "
            "organizar: mudá-lo não altera o ID, o token nem o número conectado."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "webhooks",
        _("Como recebo os eventos no meu sistema (webhooks)?"),
        _(
            "Em Editar › Webhooks, informe uma URL HTTPS para cada tipo de evento que "
            "quiser receber: mensagem recebida, enviada, status, conexão, desconexão e "
            "presença. Cada envio é assinado; tentamos de novo quando seu servidor "
            "falha e a aba Entregas mostra cada tentativa, com a opção de reenviar."
        ),
        _("Como os webhooks funcionam"),
        "webhooks:docs",
    ),
    Question(
        "id-e-token",
        _("Onde encontro o ID e o token da instância?"),
        _(
            "Na página da instância, em “Credenciais da API”, com botões para copiar. "
            "O token funciona como uma senha: guarde-o em segredo. Se ele vazar, use "
            "“Gerar novo token” e o antigo para de funcionar na hora."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "documentacao-api",
        _("Onde está a documentação da API?"),
        _(
            "Em “Documentação”, no menu lateral: um guia curto com o primeiro envio em "
            "curl e os códigos de erro, seguido da referência interativa de todas as "
            "rotas, onde dá para testar cada chamada."
        ),
        _("Abrir a documentação"),
        "api:openapi-view",
    ),
    Question(
        "cobranca-pos-paga",
        _("Como funciona a cobrança pós-paga?"),
        _(
            "Você usa durante o mês e paga no mês seguinte. No dia 1º emitimos uma "
            "fatura com uma linha por instância assinada: preço mensal × dias em que "
            "ela esteve assinada ÷ dias do mês. A página Boletos mostra também uma "
            "prévia do que o mês atual já acumulou."
        ),
        _("Abrir Boletos"),
        "billing:invoices",
    ),
    Question(
        "cancelar",
        _("Como cancelo a assinatura?"),
        _(
            "No menu ⋮ da instância, escolha “Cancelar assinatura” e confirme. A "
            "instância é desconectada na hora. Os dias do mês do cancelamento entram na "
            "fatura seguinte e nada mais é cobrado depois disso. Dá para assinar de novo "
            "quando quiser."
        ),
        _("Ver minhas instâncias"),
        "instances:list",
    ),
    Question(
        "boletos",
        _("Como pago um boleto ou um PIX?"),
        _(
            "Em Boletos, cada fatura em aberto tem “Copiar linha digitável”, “Copiar "
            "código PIX” e “Ver boleto”, que pode ser impresso ou baixado em PDF. "
            "Venceu? Use “Gerar 2ª via”: sai um boleto novo com a nova data, já com "
            "multa e juros, e o anterior é cancelado."
        ),
        _("Abrir Boletos"),
        "billing:invoices",
    ),
    Question(
        "trocar-email",
        _("Por que não consigo trocar o e-mail da conta?"),
        _(
            "O e-mail escolhido no cadastro é a identidade permanente da conta: é por "
            "ele que confirmamos quem pede acesso, recuperação de senha ou mudanças de "
            "cobrança. Por segurança ele não muda pelo painel. Em casos excepcionais, "
            "como a perda do acesso ao endereço, fale com o suporte."
        ),
        _("Minha conta"),
        "accounts:profile",
    ),
    Question(
        "dados-de-cobranca",
        _("Como altero os dados que vão nas faturas?"),
        _(
            "Em Minha conta › Dados de cobrança: nome ou razão social, CPF ou CNPJ, "
            "e-mail para faturas e endereço. As próximas faturas saem com os dados "
            "novos; as já emitidas guardam os dados da época."
        ),
        _("Dados de cobrança"),
        "billing:profile",
    ),
    Question(
        "suporte",
        _("Como falo com o suporte?"),
        _(
            "Abra um chamado em Suporte, escolhendo a categoria (Técnico, Financeiro ou "
            "Comercial) e, se for o caso, a instância. Você pode anexar imagens ou PDF. "
            "A conversa fica registrada no chamado e avisamos por e-mail quando "
            "respondermos."
        ),
        _("Abrir um chamado"),
        "support:ticket_create",
    ),
]


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore")
    return folded.decode("ascii").lower().replace("-", "")


def questions_search(query: str) -> list[Question]:
    """The questions whose text holds every word typed, ignoring case and
    accents ("pix boleto" finds how to pay)."""
    words = _plain(query).split()
    if not words:
        return list(QUESTIONS)
    return [
        q
        for q in QUESTIONS
        if all(word in _plain(f"{q.question} {q.answer}") for word in words)
    ]
