/*
 * Lexer and recursive-descent parser of the policy language (maa-interface.md
 * §3.1-3.2). The whole text is tokenized first (bounded by the size limit),
 * then parsed with one token of lookahead beyond the current one. Every
 * error names the line and column of the token it stopped at, what was
 * expected and what was found.
 *
 * Leniencies (§3.2, DOCS/author-sign-policy): keywords in any case, `//`
 * comments, `=` for `==` inside conditions, the type given positionally in
 * add/issue/issueproperty, and the `;` after a rule or a section's `}`
 * optional (Microsoft's own authoring sample omits it).
 */
#include "policy/policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_kind {
	T_EOF,
	T_IDENT,
	T_STRING,
	T_INT,
	T_ASSIGN, /* = */
	T_EQ,     /* == */
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_ARROW,  /* => */
	T_AND,    /* && */
	T_NOT,    /* ! */
	T_COLON,
	T_LBRACK,
	T_RBRACK,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_SEMI,
	T_DOT,
};

static const char *const TOK_NAMES[] = {
	"end of policy", "identifier", "string", "integer", "'='", "'=='", "'!='", "'<'", "'<='", "'>'",
	"'>='", "'=>'", "'&&'", "'!'", "':'", "'['", "']'", "'('", "')'", "'{'", "'}'", "','", "';'", "'.'",
};

struct tok {
	enum tok_kind kind;
	unsigned line, col;
	const char *p;  /* source text of the token */
	size_t n;
	char *str;      /* T_STRING: decoded value (arena) */
	size_t slen;
	int64_t ival;   /* T_INT */
};

struct parser {
	struct policy_plan *plan;
	struct attest_err *err;
	struct tok *toks;
	size_t ntoks, cap, pos;
	unsigned depth;
	unsigned nrules; /* across all sections: the limit is on the whole policy */
};

/* ---- Lexer --------------------------------------------------------------- */

struct lexer {
	const char *s;
	size_t n, i;
	unsigned line, col;
};

static int lex_fail(struct parser *ps, const struct lexer *lx, const char *name, const char *msg, char c)
{
	if (c >= 0x20 && c < 0x7f)
		attest_err_set(ps->err, ATTEST_E_POLICY, name, "%s '%c'", msg, c);
	else if (c != 0)
		attest_err_set(ps->err, ATTEST_E_POLICY, name, "%s (byte 0x%02x)", msg, (unsigned char)c);
	else
		attest_err_set(ps->err, ATTEST_E_POLICY, name, "%s", msg);
	attest_err_where(ps->err, "line %u column %u", lx->line, lx->col);
	return ATTEST_E_POLICY;
}

static void lex_adv(struct lexer *lx, size_t k)
{
	while (k-- > 0 && lx->i < lx->n) {
		if (lx->s[lx->i] == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->i++;
	}
}

static int tok_push(struct parser *ps, const struct tok *t)
{
	if (ps->ntoks == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 256;
		struct tok *v = realloc(ps->toks, cap * sizeof(*v));

		if (v == NULL)
			return attest_err_set(ps->err, ATTEST_E_NOMEM, "policy.nomem", "out of memory tokenizing");
		ps->toks = v;
		ps->cap = cap;
	}
	ps->toks[ps->ntoks++] = *t;
	return ATTEST_OK;
}

/* A string literal: '"' { char | '\"' | '\\' } '"' on one line. */
static int lex_string(struct parser *ps, struct lexer *lx, struct tok *t)
{
	size_t j = lx->i + 1, k = 0;
	char *out;

	for (;; j++) {
		if (j >= lx->n || lx->s[j] == '\n')
			return lex_fail(ps, lx, "policy.lex", "unterminated string", 0);
		if (lx->s[j] == '"')
			break;
		if (lx->s[j] == '\\' && j + 1 < lx->n && (lx->s[j + 1] == '"' || lx->s[j + 1] == '\\'))
			j++;
	}
	if (j - lx->i - 1 > ps->plan->lim.max_string) {
		attest_err_set(ps->err, ATTEST_E_POLICY, "policy.string_too_long",
			       "string of %zu bytes is over the %u-byte limit", j - lx->i - 1, ps->plan->lim.max_string);
		attest_err_where(ps->err, "line %u column %u", lx->line, lx->col);
		return ATTEST_E_POLICY;
	}
	out = arena_alloc(&ps->plan->arena, j - lx->i);
	if (out == NULL)
		return attest_err_set(ps->err, ATTEST_E_NOMEM, "policy.nomem", "out of memory reading a string");
	for (size_t m = lx->i + 1; m < j; m++) {
		if (lx->s[m] == '\0')
			return lex_fail(ps, lx, "policy.lex", "NUL byte in string", 0);
		if (lx->s[m] == '\\' && (lx->s[m + 1] == '"' || lx->s[m + 1] == '\\'))
			m++;
		out[k++] = lx->s[m];
	}
	out[k] = '\0';
	t->kind = T_STRING;
	t->str = out;
	t->slen = k;
	t->n = j + 1 - lx->i;
	return ATTEST_OK;
}

static int lex_int(struct parser *ps, struct lexer *lx, struct tok *t)
{
	size_t j = lx->i;
	bool neg = lx->s[j] == '-';
	uint64_t v = 0;

	if (neg)
		j++;
	for (; j < lx->n && lx->s[j] >= '0' && lx->s[j] <= '9'; j++) {
		v = v * 10 + (uint64_t)(lx->s[j] - '0');
		if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
			return lex_fail(ps, lx, "policy.lex", "integer out of range", 0);
	}
	t->kind = T_INT;
	t->ival = neg ? (int64_t)(0 - v) : (int64_t)v;
	t->n = j - lx->i;
	return ATTEST_OK;
}

static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

/* Punctuation: two-character tokens first. */
static enum tok_kind lex_punct(const char *s, size_t avail, size_t *len)
{
	static const struct {
		const char *text;
		enum tok_kind kind;
	} P[] = {
		{"==", T_EQ}, {"!=", T_NE}, {"<=", T_LE}, {">=", T_GE}, {"=>", T_ARROW}, {"&&", T_AND},
		{"=", T_ASSIGN}, {"<", T_LT}, {">", T_GT}, {"!", T_NOT}, {":", T_COLON}, {"[", T_LBRACK},
		{"]", T_RBRACK}, {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE},
		{",", T_COMMA}, {";", T_SEMI}, {".", T_DOT},
	};
	for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
		size_t n = strlen(P[i].text);

		if (n <= avail && memcmp(s, P[i].text, n) == 0) {
			*len = n;
			return P[i].kind;
		}
	}
	*len = 0;
	return T_EOF;
}

static int lex_one(struct parser *ps, struct lexer *lx, struct tok *t)
{
	char c = lx->s[lx->i];

	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	t->col = lx->col;
	t->p = lx->s + lx->i;
	if (c == '"')
		return lex_string(ps, lx, t);
	if ((c >= '0' && c <= '9') || (c == '-' && lx->i + 1 < lx->n && lx->s[lx->i + 1] >= '0' && lx->s[lx->i + 1] <= '9'))
		return lex_int(ps, lx, t);
	if (is_ident_start(c)) {
		size_t j = lx->i;

		while (j < lx->n && is_ident_char(lx->s[j]))
			j++;
		t->kind = T_IDENT;
		t->n = j - lx->i;
		return ATTEST_OK;
	}
	t->kind = lex_punct(lx->s + lx->i, lx->n - lx->i, &t->n);
	if (t->n == 0)
		return lex_fail(ps, lx, "policy.lex", "unexpected character", c);
	return ATTEST_OK;
}

static int lex_all(struct parser *ps, const char *s, size_t n)
{
	struct lexer lx = {s, n, 0, 1, 1};
	struct tok t;
	int rc;

	/* A UTF-8 byte order mark, as Windows editors save files, is not part of the policy. */
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		lx.i = 3;

	while (lx.i < n) {
		char c = s[lx.i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
			lex_adv(&lx, 1);
			continue;
		}
		if (c == '/' && lx.i + 1 < n && s[lx.i + 1] == '/') {
			while (lx.i < n && s[lx.i] != '\n')
				lex_adv(&lx, 1);
			continue;
		}
		if ((rc = lex_one(ps, &lx, &t)) != ATTEST_OK || (rc = tok_push(ps, &t)) != ATTEST_OK)
			return rc;
		lex_adv(&lx, t.n);
	}
	memset(&t, 0, sizeof(t));
	t.kind = T_EOF;
	t.line = lx.line;
	t.col = lx.col;
	return tok_push(ps, &t);
}

/* ---- Parser helpers ------------------------------------------------------ */

static const struct tok *cur(const struct parser *ps) { return &ps->toks[ps->pos]; }
static const struct tok *peek(const struct parser *ps)
{
	return &ps->toks[ps->pos + 1 < ps->ntoks ? ps->pos + 1 : ps->pos];
}
static void next(struct parser *ps)
{
	if (ps->pos + 1 < ps->ntoks)
		ps->pos++;
}

static bool is_kw(const struct tok *t, const char *kw)
{
	return t->kind == T_IDENT && t->n == strlen(kw) && strncasecmp(t->p, kw, t->n) == 0;
}

/* "found ..." text of a token. */
static void describe(const struct tok *t, char *buf, size_t n)
{
	switch (t->kind) {
	case T_IDENT:
		snprintf(buf, n, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
		break;
	case T_STRING:
		snprintf(buf, n, "string \"%.*s%s\"", (int)(t->slen > 40 ? 40 : t->slen), t->str, t->slen > 40 ? "..." : "");
		break;
	case T_INT:
		snprintf(buf, n, "integer %lld", (long long)t->ival);
		break;
	default:
		snprintf(buf, n, "%s", TOK_NAMES[t->kind]);
	}
}

static int fail_at(struct parser *ps, const struct tok *t, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *ps, const struct tok *t, const char *name, const char *fmt, ...)
{
	char msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(ps->err, ATTEST_E_POLICY, name, "%s", msg);
	attest_err_where(ps->err, "line %u column %u", t->line, t->col);
	return ATTEST_E_POLICY;
}

/* policy.parse: "expected <what>, found <token>". */
static int expected(struct parser *ps, const char *what)
{
	char found[96], msg[256];

	describe(cur(ps), found, sizeof(found));
	snprintf(msg, sizeof(msg), "expected %s, found %s", what, found);
	/* ps->toks is freed by pol_parse whatever happens here. */
	return fail_at(ps, cur(ps), "policy.parse", "%s", msg); // NOLINT(clang-analyzer-unix.Malloc)
}

static int expect(struct parser *ps, enum tok_kind k, const char *what)
{
	if (cur(ps)->kind != k)
		return expected(ps, what);
	next(ps);
	return ATTEST_OK;
}

static void *palloc(struct parser *ps, size_t n)
{
	void *p = arena_alloc(&ps->plan->arena, n);

	if (p == NULL)
		attest_err_set(ps->err, ATTEST_E_NOMEM, "policy.nomem", "out of memory parsing the policy");
	return p;
}

static char *pstrndup(struct parser *ps, const char *s, size_t n)
{
	char *p = palloc(ps, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Registers a jansson constant with the plan (which releases it) and returns it. */
static json_t *keep(struct parser *ps, json_t *v)
{
	if (v == NULL || json_array_append_new(ps->plan->konsts, v) != 0) {
		attest_err_set(ps->err, ATTEST_E_NOMEM, "policy.nomem", "out of memory parsing the policy");
		return NULL;
	}
	return v;
}

/* Arena-backed growable pointer list (rules and conditions are few). */
struct plist {
	void **v;
	unsigned n, cap;
};

static int plist_add(struct parser *ps, struct plist *l, void *item)
{
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 8;
		void **v = palloc(ps, cap * sizeof(void *));

		if (v == NULL)
			return ATTEST_E_NOMEM;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(void *));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = item;
	return ATTEST_OK;
}

static int need_version(struct parser *ps, const struct tok *t, int minor, const char *what)
{
	char msg[160];

	if (ps->plan->minor >= minor)
		return ATTEST_OK;
	snprintf(msg, sizeof(msg), "%s needs version=1.%d or later; the policy declares version=%s", what, minor,
		 ps->plan->version);
	return fail_at(ps, t, "policy.version_feature", "%s", msg);
}

/* ---- Expressions --------------------------------------------------------- */

static bool parse_prop(const struct tok *t, enum pol_prop *out)
{
	static const char *const NAMES[] = {"type", "value", "valueType", "issuer"};

	for (int i = 0; i < 4; i++)
		if (is_kw(t, NAMES[i])) {
			*out = (enum pol_prop)i;
			return true;
		}
	return false;
}

static bool parse_func_name(const struct tok *t, enum pol_func *out)
{
	for (int i = FN_JMESPATH; i <= FN_CONTAINSONLYVALUE; i++)
		if (is_kw(t, pol_func_name((enum pol_func)i))) {
			*out = (enum pol_func)i;
			return true;
		}
	return false;
}

static int parse_expr(struct parser *ps, struct pol_expr **out);

static int parse_call(struct parser *ps, struct pol_expr *e)
{
	struct plist args = {0};
	const struct tok *name = cur(ps);
	int rc;

	if (!parse_func_name(name, &e->fn))
		return fail_at(ps, name, "policy.function",
			       "unknown function '%s' (JmesPath, JsonToClaimValue, IsSubsetOf, AppendString, "
			       "NegateBool, ContainsOnlyValue)",
			       pstrndup(ps, name->p, name->n > 40 ? 40 : name->n));
	if ((rc = need_version(ps, name, 2, "a function call")) != ATTEST_OK)
		return rc;
	if (++ps->depth > ps->plan->lim.max_depth) {
		char lim[24];

		snprintf(lim, sizeof(lim), "%u", ps->plan->lim.max_depth);
		return fail_at(ps, name, "policy.too_deep", "function calls nested deeper than %s levels", lim);
	}
	e->kind = EX_CALL;
	next(ps); /* name */
	next(ps); /* ( */
	if (cur(ps)->kind != T_RPAREN) {
		for (;;) {
			struct pol_expr *a;

			if ((rc = parse_expr(ps, &a)) != ATTEST_OK || (rc = plist_add(ps, &args, a)) != ATTEST_OK)
				return rc;
			if (cur(ps)->kind != T_COMMA)
				break;
			next(ps);
		}
	}
	if ((rc = expect(ps, T_RPAREN, "',' or ')' after a function argument")) != ATTEST_OK)
		return rc;
	ps->depth--;
	e->args = (struct pol_expr **)args.v;
	e->nargs = args.n;
	return ATTEST_OK;
}

/* expr = string | integer | true | false | ident "." prop | func "(" args ")" */
static int parse_expr(struct parser *ps, struct pol_expr **out)
{
	const struct tok *t = cur(ps);
	struct pol_expr *e = palloc(ps, sizeof(*e));

	if (e == NULL)
		return ATTEST_E_NOMEM;
	e->line = t->line;
	e->col = t->col;
	e->slot = -1;
	*out = e;
	if (t->kind == T_STRING || t->kind == T_INT || is_kw(t, "true") || is_kw(t, "false")) {
		e->kind = EX_CONST;
		if (t->kind == T_STRING)
			e->konst = json_stringn(t->str, t->slen);
		else if (t->kind == T_INT)
			e->konst = json_integer((json_int_t)t->ival);
		else
			e->konst = json_boolean(is_kw(t, "true"));
		if (e->konst == NULL && t->kind == T_STRING)
			return fail_at(ps, t, "policy.lex", "%s", "string is not valid UTF-8");
		if (keep(ps, e->konst) == NULL)
			return ATTEST_E_NOMEM;
		next(ps);
		return ATTEST_OK;
	}
	if (t->kind == T_IDENT && peek(ps)->kind == T_LPAREN)
		return parse_call(ps, e);
	if (t->kind == T_IDENT && peek(ps)->kind == T_DOT) {
		e->kind = EX_REF;
		if ((e->ident = pstrndup(ps, t->p, t->n)) == NULL)
			return ATTEST_E_NOMEM;
		next(ps);
		next(ps);
		if (!parse_prop(cur(ps), &e->prop))
			return expected(ps, "a claim property (type, value, valueType or issuer)");
		next(ps);
		return ATTEST_OK;
	}
	return expected(ps, "a value (string, integer, true, false, identifier.property or function call)");
}

/* ---- Conditions ---------------------------------------------------------- */

static bool parse_op(const struct tok *t, enum pol_op *op)
{
	switch (t->kind) {
	case T_EQ:
	case T_ASSIGN: /* leniency: Microsoft samples write [type="..."] (§3.2) */
		*op = OP_EQ;
		return true;
	case T_NE: *op = OP_NE; return true;
	case T_LT: *op = OP_LT; return true;
	case T_LE: *op = OP_LE; return true;
	case T_GT: *op = OP_GT; return true;
	case T_GE: *op = OP_GE; return true;
	default: return false;
	}
}

static int parse_test(struct parser *ps, struct pol_test *t)
{
	const struct tok *p = cur(ps);

	t->line = p->line;
	t->col = p->col;
	if (!parse_prop(p, &t->prop))
		return expected(ps, "a claim property (type, value, valueType or issuer)");
	next(ps);
	if (!parse_op(cur(ps), &t->op))
		return expected(ps, "a comparison operator (==, !=, <, <=, >, >=)");
	next(ps);
	return parse_expr(ps, &t->rhs);
}

/* condition = [ "!" ] [ ident ":" ] "[" prop-test { "," prop-test } "]" */
static int parse_cond(struct parser *ps, struct pol_cond *c)
{
	struct pol_test tests[POLICY_DEFAULT_MAX_CONDITIONS];
	const struct tok *t = cur(ps);
	unsigned n = 0;
	int rc;

	c->line = t->line;
	c->col = t->col;
	c->slot = -1;
	c->type_id = -1;
	c->issuer = -1;
	if (t->kind == T_NOT) {
		if ((rc = need_version(ps, t, 2, "the absence operator '!'")) != ATTEST_OK)
			return rc;
		c->negated = true;
		next(ps);
	}
	if (cur(ps)->kind == T_IDENT) {
		if (peek(ps)->kind != T_COLON) {
			next(ps);
			return expected(ps, "':' after the condition's identifier");
		}
		if ((c->ident = pstrndup(ps, cur(ps)->p, cur(ps)->n)) == NULL)
			return ATTEST_E_NOMEM;
		next(ps);
		next(ps);
	}
	if ((rc = expect(ps, T_LBRACK, "'[' to open a condition")) != ATTEST_OK)
		return rc;
	for (;;) {
		if (n >= ps->plan->lim.max_conditions || n >= POLICY_DEFAULT_MAX_CONDITIONS)
			return fail_at(ps, cur(ps), "policy.too_many_conditions", "%s",
				       "too many property tests in one condition");
		memset(&tests[n], 0, sizeof(tests[n]));
		if ((rc = parse_test(ps, &tests[n])) != ATTEST_OK)
			return rc;
		n++;
		if (cur(ps)->kind != T_COMMA)
			break;
		next(ps);
	}
	if ((rc = expect(ps, T_RBRACK, "',' or ']' in a condition")) != ATTEST_OK)
		return rc;
	if ((c->tests = palloc(ps, n * sizeof(*c->tests))) == NULL)
		return ATTEST_E_NOMEM;
	memcpy(c->tests, tests, n * sizeof(*c->tests));
	c->ntests = n;
	return ATTEST_OK;
}

/* ---- Actions ------------------------------------------------------------- */

static bool action_allowed(enum policy_section s, enum pol_action_kind k)
{
	switch (s) {
	case POLICY_SECTION_CONFIGURATION: return k == ACT_ISSUEPROPERTY;
	case POLICY_SECTION_AUTHORIZATION: return k == ACT_PERMIT || k == ACT_DENY || k == ACT_ADD;
	case POLICY_SECTION_ISSUANCE: return k == ACT_ADD || k == ACT_ISSUE || k == ACT_ISSUEPROPERTY;
	}
	return false;
}

static const char *action_name(enum pol_action_kind k)
{
	static const char *const N[] = {"permit()", "deny()", "add()", "issue()", "issueproperty()"};
	return N[k];
}

static int parse_value_type(struct parser *ps, int *out)
{
	static const char *const N[] = {"String", "Integer", "Boolean"};
	const struct tok *t = cur(ps);

	for (int i = 0; i < 3; i++)
		if (t->kind == T_STRING && strcasecmp(t->str, N[i]) == 0) {
			*out = i;
			next(ps);
			return ATTEST_OK;
		}
	return expected(ps, "valueType \"String\", \"Integer\" or \"Boolean\"");
}

/* One argument of add/issue/issueproperty: name "=" expr, or a positional expr. */
static int parse_action_arg(struct parser *ps, struct pol_action *a, unsigned *positional)
{
	const struct tok *t = cur(ps);

	if (t->kind == T_IDENT && peek(ps)->kind == T_ASSIGN) {
		next(ps);
		next(ps);
		if (is_kw(t, "claim")) {
			if (a->type || a->value || a->claim_slot != -1 || cur(ps)->kind != T_IDENT)
				return cur(ps)->kind != T_IDENT ? expected(ps, "an identifier after claim=")
								: fail_at(ps, t, "policy.parse", "%s",
									  "claim= cannot be combined with other arguments");
			/* The identifier's name is resolved by the compiler; keep it as a reference. */
			if ((a->value = palloc(ps, sizeof(*a->value))) == NULL)
				return ATTEST_E_NOMEM;
			a->value->kind = EX_REF;
			a->value->prop = PROP_VALUE;
			a->value->line = cur(ps)->line;
			a->value->col = cur(ps)->col;
			if ((a->value->ident = pstrndup(ps, cur(ps)->p, cur(ps)->n)) == NULL)
				return ATTEST_E_NOMEM;
			a->claim_slot = -2; /* claim= form, slot filled by the compiler */
			next(ps);
			return ATTEST_OK;
		}
		if (is_kw(t, "valueType")) {
			if (a->value_type != -1)
				return fail_at(ps, t, "policy.parse", "%s", "valueType given twice");
			return parse_value_type(ps, &a->value_type);
		}
		if (is_kw(t, "type") || is_kw(t, "value")) {
			struct pol_expr **slot = is_kw(t, "type") ? &a->type : &a->value;

			if (*slot != NULL || a->claim_slot == -2)
				return fail_at(ps, t, "policy.parse", "'%s' given twice or with claim=",
					       is_kw(t, "type") ? "type" : "value");
			return parse_expr(ps, slot);
		}
		ps->pos -= 2;
		return expected(ps, "an argument (type=, value=, valueType= or claim=)");
	}
	/* Positional: the first is the type, the second the value (§3.2 leniency). */
	if (*positional == 0 && a->type == NULL) {
		(*positional)++;
		return parse_expr(ps, &a->type);
	}
	if (*positional == 1 && a->value == NULL) {
		(*positional)++;
		return parse_expr(ps, &a->value);
	}
	return expected(ps, "a named argument (type=, value=, valueType=)");
}

static int parse_action(struct parser *ps, enum policy_section sec, struct pol_action *a)
{
	static const char *const N[] = {"permit", "deny", "add", "issue", "issueproperty"};
	const struct tok *t = cur(ps);
	unsigned positional = 0;
	int k = -1, rc;

	a->line = t->line;
	a->col = t->col;
	a->value_type = -1;
	a->claim_slot = -1;
	for (int i = 0; i < 5; i++)
		if (is_kw(t, N[i]))
			k = i;
	if (k < 0)
		return expected(ps, "an action (permit, deny, add, issue or issueproperty)");
	a->kind = (enum pol_action_kind)k;
	if (!action_allowed(sec, a->kind)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s is not allowed in %s%s", action_name(a->kind), policy_section_name(sec),
			 a->kind == ACT_ISSUE ? " (authorization rules cannot issue outgoing claims)" : "");
		return fail_at(ps, t, "policy.action", "%s", msg);
	}
	next(ps);
	if ((rc = expect(ps, T_LPAREN, "'(' after the action")) != ATTEST_OK)
		return rc;
	if (a->kind == ACT_PERMIT || a->kind == ACT_DENY)
		return expect(ps, T_RPAREN, "')': permit() and deny() take no arguments");
	for (;;) {
		if ((rc = parse_action_arg(ps, a, &positional)) != ATTEST_OK)
			return rc;
		if (cur(ps)->kind != T_COMMA)
			break;
		next(ps);
	}
	if (a->claim_slot != -2 && (a->type == NULL || a->value == NULL))
		return fail_at(ps, t, "policy.parse", "%s needs type= and value= (or claim=)", action_name(a->kind));
	return expect(ps, T_RPAREN, "',' or ')' in the action's arguments");
}

/* ---- Rules, sections, policy -------------------------------------------- */

/* rule = [ conditions ] "=>" action [ ";" ] */
static int parse_rule(struct parser *ps, enum policy_section sec, unsigned index, struct pol_rule *r)
{
	struct pol_cond conds[POLICY_DEFAULT_MAX_CONDITIONS];
	unsigned n = 0;
	int rc;

	r->section = sec;
	r->index = index;
	r->line = cur(ps)->line;
	r->col = cur(ps)->col;
	if (cur(ps)->kind != T_ARROW) {
		for (;;) {
			if (n >= ps->plan->lim.max_conditions || n >= POLICY_DEFAULT_MAX_CONDITIONS)
				return fail_at(ps, cur(ps), "policy.too_many_conditions", "%s",
					       "too many conditions in one rule");
			memset(&conds[n], 0, sizeof(conds[n]));
			if ((rc = parse_cond(ps, &conds[n])) != ATTEST_OK)
				return rc;
			n++;
			if (cur(ps)->kind != T_AND)
				break;
			next(ps);
		}
	}
	if ((rc = expect(ps, T_ARROW, n ? "'&&' or '=>' after a condition" : "a condition or '=>'")) != ATTEST_OK)
		return rc;
	if ((rc = parse_action(ps, sec, &r->action)) != ATTEST_OK)
		return rc;
	if (cur(ps)->kind == T_SEMI)
		next(ps);
	if (n && (r->conds = palloc(ps, n * sizeof(*r->conds))) == NULL)
		return ATTEST_E_NOMEM;
	if (n)
		memcpy(r->conds, conds, n * sizeof(*r->conds));
	r->nconds = n;
	return ATTEST_OK;
}

static int parse_section(struct parser *ps, enum policy_section sec, struct plist *rules)
{
	unsigned index = 0;
	int rc;

	next(ps); /* section name */
	if ((rc = expect(ps, T_LBRACE, "'{' after the section name")) != ATTEST_OK)
		return rc;
	while (cur(ps)->kind != T_RBRACE) {
		struct pol_rule *r;

		if (cur(ps)->kind == T_EOF)
			return expected(ps, "a rule or '}'");
		if (ps->nrules >= ps->plan->lim.max_rules) {
			char lim[24];

			snprintf(lim, sizeof(lim), "%u", ps->plan->lim.max_rules);
			return fail_at(ps, cur(ps), "policy.too_many_rules", "the policy has more than %s rules", lim);
		}
		ps->nrules++;
		if ((r = palloc(ps, sizeof(*r))) == NULL)
			return ATTEST_E_NOMEM;
		if ((rc = parse_rule(ps, sec, ++index, r)) != ATTEST_OK || (rc = plist_add(ps, rules, r)) != ATTEST_OK)
			return rc;
	}
	next(ps); /* } */
	if (cur(ps)->kind == T_SEMI)
		next(ps);
	ps->plan->count[sec] = index;
	return ATTEST_OK;
}

/* version = "version" "=" digits "." digits ";" */
static int parse_version(struct parser *ps)
{
	const struct tok *t;
	int rc;

	if (!is_kw(cur(ps), "version"))
		return expected(ps, "'version' at the start of the policy");
	next(ps);
	if ((rc = expect(ps, T_ASSIGN, "'=' after 'version'")) != ATTEST_OK)
		return rc;
	t = cur(ps);
	if (t->kind != T_INT || peek(ps)->kind != T_DOT || ps->toks[ps->pos + 2].kind != T_INT)
		return expected(ps, "a version number such as 1.0");
	if (t->ival != 1 || ps->toks[ps->pos + 2].ival < 0 || ps->toks[ps->pos + 2].ival > 2 ||
	    ps->toks[ps->pos + 2].n != 1)
		return fail_at(ps, t, "policy.version", "version %s is not supported (1.0, 1.1 and 1.2 are)",
			       pstrndup(ps, t->p, (size_t)(ps->toks[ps->pos + 2].p + ps->toks[ps->pos + 2].n - t->p)));
	ps->plan->minor = (int)ps->toks[ps->pos + 2].ival;
	snprintf(ps->plan->version, sizeof(ps->plan->version), "1.%d", ps->plan->minor);
	ps->pos += 3;
	return expect(ps, T_SEMI, "';' after the version");
}

static int parse_policy(struct parser *ps)
{
	struct plist rules[3] = {{0}, {0}, {0}};
	bool seen[3] = {false, false, false};
	int rc;

	if ((rc = parse_version(ps)) != ATTEST_OK)
		return rc;
	while (cur(ps)->kind != T_EOF) {
		const struct tok *t = cur(ps);
		int s = -1;

		for (int i = 0; i < 3; i++)
			if (is_kw(t, policy_section_name((enum policy_section)i)))
				s = i;
		if (s < 0)
			return expected(ps, "a section (configurationrules, authorizationrules or issuancerules)");
		if (seen[s])
			return fail_at(ps, t, "policy.section", "section %s appears twice",
				       policy_section_name((enum policy_section)s));
		if (s == POLICY_SECTION_CONFIGURATION && (rc = need_version(ps, t, 1, "configurationrules")) != ATTEST_OK)
			return rc;
		seen[s] = true;
		if ((rc = parse_section(ps, (enum policy_section)s, &rules[s])) != ATTEST_OK)
			return rc;
	}
	if (!seen[POLICY_SECTION_AUTHORIZATION])
		return fail_at(ps, cur(ps), "policy.section", "%s", "the policy has no authorizationrules section");
	if (!seen[POLICY_SECTION_ISSUANCE])
		return fail_at(ps, cur(ps), "policy.section", "%s", "the policy has no issuancerules section");
	ps->plan->nrules = rules[0].n + rules[1].n + rules[2].n;
	if (ps->plan->nrules &&
	    (ps->plan->rules = palloc(ps, ps->plan->nrules * sizeof(*ps->plan->rules))) == NULL)
		return ATTEST_E_NOMEM;
	for (unsigned s = 0, k = 0; s < 3; s++)
		for (unsigned i = 0; i < rules[s].n; i++)
			ps->plan->rules[k++] = *(struct pol_rule *)rules[s].v[i];
	return ATTEST_OK;
}

int pol_parse(struct policy_plan *plan, const char *text, size_t len, struct attest_err *err)
{
	struct parser ps = {.plan = plan, .err = err};
	int rc;

	if (len > plan->lim.max_bytes)
		return attest_err_set(err, ATTEST_E_POLICY, "policy.too_large",
				      "the policy is %zu bytes, over the %zu-byte limit", len, plan->lim.max_bytes);
	rc = lex_all(&ps, text, len);
	if (rc == ATTEST_OK)
		rc = parse_policy(&ps);
	free(ps.toks);
	return rc;
}
