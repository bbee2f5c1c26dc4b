/*
 * JMESPath over jansson (see jmespath.h). A top-down operator-precedence
 * parser with the binding powers of the specification's grammar, and a
 * tree-walking evaluator. Projections carry their right-hand side as a
 * child node evaluated per element (nulls dropped), as the specification's
 * "Projections" section describes.
 */
#include "policy/jmespath.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum jt { /* tokens */
	JT_EOF, JT_IDENT, JT_QIDENT, JT_NUMBER, JT_LITERAL, JT_RAW, JT_DOT, JT_STAR, JT_FLATTEN, JT_FILTER,
	JT_LBRACKET, JT_RBRACKET, JT_LBRACE, JT_RBRACE, JT_LPAREN, JT_RPAREN, JT_COMMA, JT_COLON, JT_PIPE,
	JT_OR, JT_AND, JT_NOT, JT_EXPREF, JT_CURRENT, JT_EQ, JT_NE, JT_LT, JT_LE, JT_GT, JT_GE,
};

enum jn { /* nodes */
	JN_CURRENT, JN_FIELD, JN_INDEX, JN_SLICE, JN_LITERAL, JN_SUB, JN_PROJECT, JN_VALUES, JN_FLATTEN,
	JN_FILTER, JN_PIPE, JN_OR, JN_AND, JN_NOT, JN_CMP, JN_MLIST, JN_MHASH, JN_FUNC, JN_EXPREF,
};

struct jmes_expr {
	enum jn kind;
	struct jmes_expr *a, *b, *c; /* children: lhs, rhs, condition */
	struct jmes_expr **kids;     /* multi-select, function arguments */
	char **keys;                 /* multi-select hash keys */
	size_t nkids;
	char *name;                  /* field / function name */
	json_t *lit;                 /* literal */
	long long idx[3];            /* index, or slice start/stop/step */
	bool has[3];                 /* slice parts present */
	enum jt op;                  /* comparison */
};

struct jtok {
	enum jt t;
	size_t pos;
	char *s;        /* identifier / string text (owned until taken) */
	json_t *lit;    /* literal */
	long long num;
};

struct jparser {
	const char *q;
	size_t n, i;
	struct jtok tok;
	unsigned depth;
	struct attest_err *err;
};

static int jsyntax(struct jparser *p, const char *msg)
{
	(void)attest_err_set(p->err, ATTEST_E_PARSE, "jmespath.syntax", "%s", msg);
	attest_err_where(p->err, "query column %zu", p->tok.pos + 1);
	return ATTEST_E_PARSE;
}

/* ---- Lexer ----------------------------------------------------------------- */

static void tok_clear(struct jtok *t)
{
	free(t->s);
	json_decref(t->lit);
	t->s = NULL;
	t->lit = NULL;
}

/* Text between delimiters with backslash-escaped delimiters (raw strings, literals). */
static char *delimited(struct jparser *p, char delim, size_t *end)
{
	size_t j = p->i + 1, k = 0;
	char *out = malloc(p->n - p->i + 1);

	if (out == NULL)
		return NULL;
	for (; j < p->n && p->q[j] != delim; j++) {
		if (p->q[j] == '\\' && j + 1 < p->n && (p->q[j + 1] == delim || (delim == '\'' && p->q[j + 1] == '\\')))
			j++;
		out[k++] = p->q[j];
	}
	if (j >= p->n) {
		free(out);
		return NULL;
	}
	out[k] = '\0';
	*end = j + 1;
	return out;
}

static int lex_quoted(struct jparser *p)
{
	size_t j = p->i + 1;
	json_t *v;

	for (; j < p->n && p->q[j] != '"'; j++)
		if (p->q[j] == '\\')
			j++;
	if (j >= p->n)
		return jsyntax(p, "unterminated quoted identifier");
	v = json_loadb(p->q + p->i, j + 1 - p->i, JSON_DECODE_ANY, NULL);
	if (!json_is_string(v)) {
		json_decref(v);
		return jsyntax(p, "invalid quoted identifier");
	}
	p->tok.s = strdup(json_string_value(v));
	json_decref(v);
	p->tok.t = JT_QIDENT;
	p->i = j + 1;
	return p->tok.s ? ATTEST_OK : jsyntax(p, "out of memory");
}

static int lex_delimited(struct jparser *p, char c)
{
	size_t end;
	char *s = delimited(p, c, &end);

	if (s == NULL)
		return jsyntax(p, c == '`' ? "unterminated literal" : "unterminated raw string");
	if (c == '\'') {
		p->tok.t = JT_RAW;
		p->tok.lit = json_string(s);
	} else {
		p->tok.t = JT_LITERAL;
		p->tok.lit = json_loads(s, JSON_DECODE_ANY, NULL);
	}
	free(s);
	p->i = end;
	return p->tok.lit ? ATTEST_OK : jsyntax(p, "invalid JSON literal");
}

static enum jt lex_punct(struct jparser *p)
{
	static const struct {
		const char *s;
		enum jt t;
	} P[] = {
		{"[]", JT_FLATTEN}, {"[?", JT_FILTER}, {"||", JT_OR}, {"&&", JT_AND}, {"==", JT_EQ}, {"!=", JT_NE},
		{"<=", JT_LE}, {">=", JT_GE}, {".", JT_DOT}, {"*", JT_STAR}, {"[", JT_LBRACKET}, {"]", JT_RBRACKET},
		{"{", JT_LBRACE}, {"}", JT_RBRACE}, {"(", JT_LPAREN}, {")", JT_RPAREN}, {",", JT_COMMA},
		{":", JT_COLON}, {"|", JT_PIPE}, {"&", JT_EXPREF}, {"!", JT_NOT}, {"<", JT_LT}, {">", JT_GT},
		{"@", JT_CURRENT},
	};
	for (size_t k = 0; k < sizeof(P) / sizeof(P[0]); k++) {
		size_t l = strlen(P[k].s);

		if (p->n - p->i >= l && memcmp(p->q + p->i, P[k].s, l) == 0) {
			p->i += l;
			return P[k].t;
		}
	}
	return JT_EOF;
}

static int lex(struct jparser *p)
{
	char c;

	tok_clear(&p->tok);
	while (p->i < p->n && isspace((unsigned char)p->q[p->i]))
		p->i++;
	p->tok.pos = p->i;
	if (p->i >= p->n) {
		p->tok.t = JT_EOF;
		return ATTEST_OK;
	}
	c = p->q[p->i];
	if (isalpha((unsigned char)c) || c == '_') {
		size_t j = p->i;

		while (j < p->n && (isalnum((unsigned char)p->q[j]) || p->q[j] == '_'))
			j++;
		p->tok.t = JT_IDENT;
		p->tok.s = strndup(p->q + p->i, j - p->i);
		p->i = j;
		return p->tok.s ? ATTEST_OK : jsyntax(p, "out of memory");
	}
	if (isdigit((unsigned char)c) || (c == '-' && p->i + 1 < p->n && isdigit((unsigned char)p->q[p->i + 1]))) {
		size_t j = p->i + 1;

		while (j < p->n && isdigit((unsigned char)p->q[j]))
			j++;
		if (j - p->i > 18)
			return jsyntax(p, "number too large");
		p->tok.t = JT_NUMBER;
		p->tok.num = 0;
		/* The query is not NUL-terminated: no strtoll. At most 18 digits fit. */
		for (size_t k = p->i + (c == '-'); k < j; k++)
			p->tok.num = p->tok.num * 10 + (p->q[k] - '0');
		if (c == '-')
			p->tok.num = -p->tok.num;
		p->i = j;
		return ATTEST_OK;
	}
	if (c == '"')
		return lex_quoted(p);
	if (c == '\'' || c == '`')
		return lex_delimited(p, c);
	if ((p->tok.t = lex_punct(p)) == JT_EOF)
		return jsyntax(p, "unexpected character");
	return ATTEST_OK;
}

/* ---- Parser -------------------------------------------------------------- */

static int bp_of(enum jt t)
{
	switch (t) {
	case JT_PIPE: return 1;
	case JT_OR: return 2;
	case JT_AND: return 3;
	case JT_EQ: case JT_NE: case JT_LT: case JT_LE: case JT_GT: case JT_GE: return 5;
	case JT_FLATTEN: return 9;
	case JT_STAR: return 20;
	case JT_FILTER: return 21;
	case JT_DOT: return 40;
	case JT_NOT: return 45;
	case JT_LBRACE: return 50;
	case JT_LBRACKET: return 55;
	case JT_LPAREN: return 60;
	default: return 0;
	}
}

static struct jmes_expr *node(enum jn k)
{
	struct jmes_expr *e = calloc(1, sizeof(*e));

	if (e != NULL)
		e->kind = k;
	return e;
}

void jmes_free(struct jmes_expr *e)
{
	if (e == NULL)
		return;
	jmes_free(e->a);
	jmes_free(e->b);
	jmes_free(e->c);
	for (size_t i = 0; i < e->nkids; i++) {
		jmes_free(e->kids[i]);
		if (e->keys)
			free(e->keys[i]);
	}
	free(e->kids);
	free(e->keys);
	free(e->name);
	json_decref(e->lit);
	free(e);
}

static int expr(struct jparser *p, int rbp, struct jmes_expr **out);

static int expect(struct jparser *p, enum jt t, const char *msg)
{
	if (p->tok.t != t)
		return jsyntax(p, msg);
	return lex(p);
}

static int mknode(struct jparser *p, enum jn k, struct jmes_expr *a, struct jmes_expr *b, struct jmes_expr **out)
{
	struct jmes_expr *e = node(k);

	if (e == NULL) {
		jmes_free(a);
		jmes_free(b);
		return jsyntax(p, "out of memory");
	}
	e->a = a;
	e->b = b;
	*out = e;
	return ATTEST_OK;
}

static int push_kid(struct jmes_expr *e, struct jmes_expr *k, char *key)
{
	struct jmes_expr **v = realloc(e->kids, (e->nkids + 1) * sizeof(struct jmes_expr *));
	char **ks;

	if (v == NULL)
		return -1;
	e->kids = v;
	if (key != NULL || e->keys != NULL) {
		if ((ks = realloc(e->keys, (e->nkids + 1) * sizeof(*ks))) == NULL)
			return -1;
		e->keys = ks;
		e->keys[e->nkids] = key;
	}
	e->kids[e->nkids++] = k;
	return 0;
}

/* [ expr, expr, ... ] after the '[' was consumed. */
static int parse_mlist(struct jparser *p, struct jmes_expr **out)
{
	struct jmes_expr *e = node(JN_MLIST), *k = NULL;
	int rc;

	if (e == NULL)
		return jsyntax(p, "out of memory");
	for (;;) {
		if ((rc = expr(p, 0, &k)) != ATTEST_OK)
			goto fail;
		if (push_kid(e, k, NULL) != 0) {
			jmes_free(k);
			rc = jsyntax(p, "out of memory");
			goto fail;
		}
		if (p->tok.t == JT_RBRACKET)
			break;
		if ((rc = expect(p, JT_COMMA, "expected ',' or ']' in a multi-select list")) != ATTEST_OK)
			goto fail;
	}
	if ((rc = lex(p)) != ATTEST_OK)
		goto fail;
	*out = e;
	return ATTEST_OK;
fail:
	jmes_free(e);
	return rc;
}

/* { key: expr, ... } after the '{' was consumed. */
static int parse_mhash(struct jparser *p, struct jmes_expr **out)
{
	struct jmes_expr *e = node(JN_MHASH), *k = NULL;
	int rc;

	if (e == NULL)
		return jsyntax(p, "out of memory");
	e->keys = calloc(1, sizeof(char *));
	for (;;) {
		char *key;

		if (p->tok.t != JT_IDENT && p->tok.t != JT_QIDENT) {
			rc = jsyntax(p, "expected a key in a multi-select hash");
			goto fail;
		}
		key = p->tok.s;
		p->tok.s = NULL;
		if ((rc = lex(p)) != ATTEST_OK || (rc = expect(p, JT_COLON, "expected ':' after a key")) != ATTEST_OK ||
		    (rc = expr(p, 0, &k)) != ATTEST_OK) {
			free(key);
			goto fail;
		}
		if (push_kid(e, k, key) != 0) {
			free(key);
			jmes_free(k);
			rc = jsyntax(p, "out of memory");
			goto fail;
		}
		if (p->tok.t == JT_RBRACE)
			break;
		if ((rc = expect(p, JT_COMMA, "expected ',' or '}' in a multi-select hash")) != ATTEST_OK)
			goto fail;
	}
	if ((rc = lex(p)) != ATTEST_OK)
		goto fail;
	*out = e;
	return ATTEST_OK;
fail:
	jmes_free(e);
	return rc;
}

/* After '[' with a number or ':' next: an index or a slice. */
static int parse_index(struct jparser *p, struct jmes_expr **out)
{
	struct jmes_expr *e = node(JN_INDEX);
	int part = 0, rc;

	if (e == NULL)
		return jsyntax(p, "out of memory");
	while (p->tok.t != JT_RBRACKET) {
		if (p->tok.t == JT_COLON) {
			if (++part > 2) {
				jmes_free(e);
				return jsyntax(p, "too many ':' in a slice");
			}
			e->kind = JN_SLICE;
		} else if (p->tok.t == JT_NUMBER && !e->has[part]) {
			e->idx[part] = p->tok.num;
			e->has[part] = true;
		} else {
			jmes_free(e);
			return jsyntax(p, "expected a number, ':' or ']'");
		}
		if ((rc = lex(p)) != ATTEST_OK) {
			jmes_free(e);
			return rc;
		}
	}
	if (e->kind == JN_INDEX && !e->has[0]) {
		jmes_free(e);
		return jsyntax(p, "expected an index");
	}
	if (e->kind == JN_SLICE && e->has[2] && e->idx[2] == 0) {
		jmes_free(e);
		return jsyntax(p, "slice step cannot be 0");
	}
	if ((rc = lex(p)) != ATTEST_OK) {
		jmes_free(e);
		return rc;
	}
	*out = e;
	return ATTEST_OK;
}

static int parse_dot_rhs(struct jparser *p, int rbp, struct jmes_expr **out)
{
	switch (p->tok.t) {
	case JT_IDENT:
	case JT_QIDENT:
	case JT_STAR: return expr(p, rbp, out);
	case JT_LBRACKET: {
		int rc = lex(p);
		return rc ? rc : parse_mlist(p, out);
	}
	case JT_LBRACE: {
		int rc = lex(p);
		return rc ? rc : parse_mhash(p, out);
	}
	default: return jsyntax(p, "expected an identifier, '*', '[' or '{' after '.'");
	}
}

static int parse_proj_rhs(struct jparser *p, int rbp, struct jmes_expr **out)
{
	int rc;

	if (bp_of(p->tok.t) < 10) {
		*out = node(JN_CURRENT);
		return *out ? ATTEST_OK : jsyntax(p, "out of memory");
	}
	if (p->tok.t == JT_LBRACKET || p->tok.t == JT_FILTER)
		return expr(p, rbp, out);
	if (p->tok.t == JT_DOT) {
		if ((rc = lex(p)) != ATTEST_OK)
			return rc;
		return parse_dot_rhs(p, rbp, out);
	}
	return jsyntax(p, "unexpected token after a projection");
}

/* A projection node: lhs evaluated, then rhs on each element. */
static int projection(struct jparser *p, enum jn k, struct jmes_expr *lhs, int rbp, struct jmes_expr **out)
{
	struct jmes_expr *rhs;
	int rc = parse_proj_rhs(p, rbp, &rhs);

	if (rc != ATTEST_OK) {
		jmes_free(lhs);
		return rc;
	}
	return mknode(p, k, lhs, rhs, out);
}

static int parse_filter(struct jparser *p, struct jmes_expr *lhs, struct jmes_expr **out)
{
	struct jmes_expr *cond = NULL, *rhs = NULL;
	int rc;

	if ((rc = expr(p, 0, &cond)) != ATTEST_OK || (rc = expect(p, JT_RBRACKET, "expected ']' after a filter")) != ATTEST_OK ||
	    (rc = parse_proj_rhs(p, bp_of(JT_FILTER), &rhs)) != ATTEST_OK) {
		jmes_free(lhs);
		jmes_free(cond);
		return rc;
	}
	if ((rc = mknode(p, JN_FILTER, lhs, rhs, out)) != ATTEST_OK) {
		jmes_free(cond);
		return rc;
	}
	(*out)->c = cond;
	return ATTEST_OK;
}

/* '[' in either position: index, slice (a projection), [*] or a multi-select list (nud only). */
static int parse_bracket(struct jparser *p, struct jmes_expr *lhs, struct jmes_expr **out)
{
	struct jmes_expr *ix = NULL;
	int rc;

	if (p->tok.t == JT_NUMBER || p->tok.t == JT_COLON) {
		if ((rc = parse_index(p, &ix)) != ATTEST_OK) {
			jmes_free(lhs);
			return rc;
		}
		ix->a = lhs;
		if (ix->kind == JN_SLICE)
			return projection(p, JN_PROJECT, ix, bp_of(JT_STAR), out);
		*out = ix;
		return ATTEST_OK;
	}
	if (p->tok.t == JT_STAR) {
		if ((rc = lex(p)) != ATTEST_OK || (rc = expect(p, JT_RBRACKET, "expected ']' after '[*'")) != ATTEST_OK) {
			jmes_free(lhs);
			return rc;
		}
		return projection(p, JN_PROJECT, lhs, bp_of(JT_STAR), out);
	}
	if (lhs->kind == JN_CURRENT && lhs->a == NULL) {
		jmes_free(lhs);
		return parse_mlist(p, out);
	}
	jmes_free(lhs);
	return jsyntax(p, "expected a number, ':' or '*' after '['");
}

static int nud(struct jparser *p, struct jmes_expr **out)
{
	struct jtok t = p->tok;
	struct jmes_expr *e = NULL, *cur;
	int rc;

	p->tok.s = NULL;
	p->tok.lit = NULL;
	if ((rc = lex(p)) != ATTEST_OK) {
		tok_clear(&t);
		return rc;
	}
	switch (t.t) {
	case JT_LITERAL:
	case JT_RAW:
		if ((e = node(JN_LITERAL)) == NULL)
			break;
		e->lit = t.lit;
		*out = e;
		return ATTEST_OK;
	case JT_IDENT:
	case JT_QIDENT:
		if (t.t == JT_QIDENT && p->tok.t == JT_LPAREN) {
			tok_clear(&t);
			return jsyntax(p, "a quoted identifier cannot name a function");
		}
		if ((e = node(JN_FIELD)) == NULL)
			break;
		e->name = t.s;
		*out = e;
		return ATTEST_OK;
	case JT_STAR:
		if ((cur = node(JN_CURRENT)) == NULL)
			break;
		return projection(p, JN_VALUES, cur, bp_of(JT_STAR), out);
	case JT_NOT:
		if ((rc = expr(p, bp_of(JT_NOT), &e)) != ATTEST_OK)
			return rc;
		return mknode(p, JN_NOT, e, NULL, out);
	case JT_LPAREN:
		if ((rc = expr(p, 0, &e)) != ATTEST_OK)
			return rc;
		if ((rc = expect(p, JT_RPAREN, "expected ')'")) != ATTEST_OK) {
			jmes_free(e);
			return rc;
		}
		*out = e;
		return ATTEST_OK;
	case JT_LBRACKET:
		if ((cur = node(JN_CURRENT)) == NULL)
			break;
		return parse_bracket(p, cur, out);
	case JT_FILTER:
		if ((cur = node(JN_CURRENT)) == NULL)
			break;
		return parse_filter(p, cur, out);
	case JT_FLATTEN:
		if ((cur = node(JN_CURRENT)) == NULL || mknode(p, JN_FLATTEN, cur, NULL, &e) != ATTEST_OK)
			break;
		return projection(p, JN_PROJECT, e, bp_of(JT_FLATTEN), out);
	case JT_LBRACE: return parse_mhash(p, out);
	case JT_CURRENT:
		*out = node(JN_CURRENT);
		return *out ? ATTEST_OK : jsyntax(p, "out of memory");
	case JT_EXPREF:
		if ((rc = expr(p, 0, &e)) != ATTEST_OK)
			return rc;
		return mknode(p, JN_EXPREF, e, NULL, out);
	default:
		tok_clear(&t);
		p->tok.pos = t.pos;
		return jsyntax(p, t.t == JT_EOF ? "unexpected end of query" : "unexpected token");
	}
	tok_clear(&t);
	return jsyntax(p, "out of memory");
}

static int parse_call(struct jparser *p, struct jmes_expr *fn, struct jmes_expr **out)
{
	struct jmes_expr *arg;
	int rc;

	if (fn->kind != JN_FIELD) {
		jmes_free(fn);
		return jsyntax(p, "only a name can be called");
	}
	fn->kind = JN_FUNC;
	while (p->tok.t != JT_RPAREN) {
		if ((rc = expr(p, 0, &arg)) != ATTEST_OK) {
			jmes_free(fn);
			return rc;
		}
		if (push_kid(fn, arg, NULL) != 0) {
			jmes_free(arg);
			jmes_free(fn);
			return jsyntax(p, "out of memory");
		}
		if (p->tok.t == JT_COMMA) {
			if ((rc = lex(p)) != ATTEST_OK) {
				jmes_free(fn);
				return rc;
			}
		} else if (p->tok.t != JT_RPAREN) {
			jmes_free(fn);
			return jsyntax(p, "expected ',' or ')' in a function call");
		}
	}
	if ((rc = lex(p)) != ATTEST_OK) {
		jmes_free(fn);
		return rc;
	}
	*out = fn;
	return ATTEST_OK;
}

static int led(struct jparser *p, enum jt t, struct jmes_expr *left, struct jmes_expr **out)
{
	struct jmes_expr *rhs;
	int rc;

	switch (t) {
	case JT_DOT:
		if (p->tok.t == JT_STAR) {
			if ((rc = lex(p)) != ATTEST_OK) {
				jmes_free(left);
				return rc;
			}
			return projection(p, JN_VALUES, left, bp_of(JT_STAR), out);
		}
		if ((rc = parse_dot_rhs(p, bp_of(JT_DOT), &rhs)) != ATTEST_OK) {
			jmes_free(left);
			return rc;
		}
		return mknode(p, JN_SUB, left, rhs, out);
	case JT_PIPE:
	case JT_OR:
	case JT_AND:
	case JT_EQ: case JT_NE: case JT_LT: case JT_LE: case JT_GT: case JT_GE:
		if ((rc = expr(p, bp_of(t), &rhs)) != ATTEST_OK) {
			jmes_free(left);
			return rc;
		}
		if ((rc = mknode(p, t == JT_PIPE ? JN_PIPE : t == JT_OR ? JN_OR : t == JT_AND ? JN_AND : JN_CMP, left,
				 rhs, out)) == ATTEST_OK)
			(*out)->op = t;
		return rc;
	case JT_LPAREN: return parse_call(p, left, out);
	case JT_FILTER: return parse_filter(p, left, out);
	case JT_FLATTEN:
		if ((rc = mknode(p, JN_FLATTEN, left, NULL, &rhs)) != ATTEST_OK)
			return rc;
		return projection(p, JN_PROJECT, rhs, bp_of(JT_FLATTEN), out);
	case JT_LBRACKET: return parse_bracket(p, left, out);
	default:
		jmes_free(left);
		return jsyntax(p, "unexpected token");
	}
}

static int expr(struct jparser *p, int rbp, struct jmes_expr **out)
{
	struct jmes_expr *left = NULL;
	int rc;

	if (++p->depth > JMES_MAX_DEPTH) {
		attest_err_set(p->err, ATTEST_E_PARSE, "jmespath.too_deep", "query nested deeper than %d", JMES_MAX_DEPTH);
		return ATTEST_E_PARSE;
	}
	if ((rc = nud(p, &left)) != ATTEST_OK)
		return rc;
	while (rbp < bp_of(p->tok.t)) {
		enum jt t = p->tok.t;

		if ((rc = lex(p)) != ATTEST_OK) {
			jmes_free(left);
			return rc;
		}
		if ((rc = led(p, t, left, &left)) != ATTEST_OK)
			return rc;
	}
	p->depth--;
	*out = left;
	return ATTEST_OK;
}

int jmes_compile(const char *query, size_t len, struct jmes_expr **out, struct attest_err *err)
{
	struct jparser p = {.q = query, .n = len, .err = err};
	struct jmes_expr *e = NULL;
	int rc;

	if (len > JMES_MAX_QUERY)
		return attest_err_set(err, ATTEST_E_PARSE, "jmespath.too_large", "query of %zu bytes is over %d", len,
				      JMES_MAX_QUERY);
	if (memchr(query, '\0', len) != NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "jmespath.syntax", "NUL byte in query");
	if ((rc = lex(&p)) == ATTEST_OK && (rc = expr(&p, 0, &e)) == ATTEST_OK && p.tok.t != JT_EOF) {
		rc = jsyntax(&p, "unexpected token after the expression");
		jmes_free(e);
	}
	tok_clear(&p.tok);
	if (rc == ATTEST_OK)
		*out = e;
	return rc;
}

/* ---- Evaluation -------------------------------------------------------------- */

struct jeval {
	struct attest_err *err;
	unsigned depth;
	size_t items; /* values placed into arrays and objects built so far */
};

/*
 * Every value a query places into an array or object it builds is counted:
 * flatten and multi-select can double a list per pipe stage, so a short
 * query could otherwise build an enormous one (jmespath.too_large).
 */
static int jcount(struct jeval *ev, size_t n)
{
	ev->items += n;
	if (ev->items > JMES_MAX_RESULT_ITEMS) {
		attest_err_set(ev->err, ATTEST_E_POLICY, "jmespath.too_large", "the query builds more than %d values",
			       JMES_MAX_RESULT_ITEMS);
		return ATTEST_E_POLICY;
	}
	return ATTEST_OK;
}

static int jev(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out);

static int jtype_err(struct jeval *ev, const char *fn, const char *what)
{
	attest_err_set(ev->err, ATTEST_E_POLICY, "jmespath.type", "%s: %s", fn, what);
	return ATTEST_E_POLICY;
}

static int jnomem(struct jeval *ev)
{
	attest_err_set(ev->err, ATTEST_E_NOMEM, "jmespath.nomem", "out of memory");
	return ATTEST_E_NOMEM;
}

/* §"Truthiness": false, null, "", [] and {} are false. */
static bool truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE: return false;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	default: return true;
	}
}

static bool within(const json_t *v, size_t *budget)
{
	size_t i;
	json_t *e;

	if (*budget == 0)
		return false;
	(*budget)--;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v) && (e = json_array_get(v, i)) != NULL; i++)
			if (!within(e, budget))
				return false;
	} else if (json_is_object(v)) {
		for (void *it = json_object_iter((json_t *)v); it != NULL; it = json_object_iter_next((json_t *)v, it))
			if (!within(json_object_iter_value(it), budget))
				return false;
	}
	return true;
}

bool jmes_value_within(const json_t *v, size_t max_nodes)
{
	size_t budget = max_nodes;

	return within(v, &budget);
}

/* Deep equality; values too large to compare (see jmes_value_within) are unequal. */
static bool jeq(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if ((json_is_array(a) || json_is_object(a)) &&
	    (!jmes_value_within(a, JMES_MAX_RESULT_ITEMS) || !jmes_value_within(b, JMES_MAX_RESULT_ITEMS)))
		return false;
	return json_equal(a, b);
}

static const char *jtype_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static json_t *jnum(double d)
{
	if (d == floor(d) && fabs(d) < 9e15)
		return json_integer((json_int_t)d);
	return json_real(d);
}

static size_t utf8_len(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* Projection: rhs on each element, nulls dropped. */
static int project(struct jeval *ev, const struct jmes_expr *rhs, json_t *list, const struct jmes_expr *cond,
		   json_t **out)
{
	json_t *res = json_array(), *el, *r = NULL, *c = NULL;
	size_t i;
	int rc;

	if (res == NULL)
		return jnomem(ev);
	for (i = 0; i < json_array_size(list) && ((el) = json_array_get(list, i)) != NULL; i++) {
		if (cond != NULL) {
			if ((rc = jev(ev, cond, el, &c)) != ATTEST_OK)
				goto fail;
			bool keep = truthy(c);
			json_decref(c);
			if (!keep)
				continue;
		}
		if ((rc = jev(ev, rhs, el, &r)) != ATTEST_OK)
			goto fail;
		if (!json_is_null(r) && (rc = jcount(ev, 1)) != ATTEST_OK) {
			json_decref(r);
			goto fail;
		}
		if (!json_is_null(r) && json_array_append(res, r) != 0) {
			json_decref(r);
			rc = jnomem(ev);
			goto fail;
		}
		json_decref(r);
	}
	*out = res;
	return ATTEST_OK;
fail:
	json_decref(res);
	return rc;
}

static json_t *slice(json_t *arr, const struct jmes_expr *e)
{
	long long len = (long long)json_array_size(arr);
	long long step = e->has[2] ? e->idx[2] : 1, start, stop;
	json_t *res = json_array();

	if (res == NULL)
		return NULL;
	if (e->has[0]) {
		start = e->idx[0] < 0 ? e->idx[0] + len : e->idx[0];
		if (start < 0)
			start = step < 0 ? -1 : 0;
		if (start >= len)
			start = step < 0 ? len - 1 : len;
	} else {
		start = step < 0 ? len - 1 : 0;
	}
	if (e->has[1]) {
		stop = e->idx[1] < 0 ? e->idx[1] + len : e->idx[1];
		if (stop < 0)
			stop = step < 0 ? -1 : 0;
		if (stop >= len)
			stop = step < 0 ? len - 1 : len;
	} else {
		stop = step < 0 ? -1 : len;
	}
	for (long long i = start; step > 0 ? i < stop : i > stop; i += step)
		json_array_append(res, json_array_get(arr, (size_t)i));
	return res;
}

/* ---- Functions ------------------------------------------------------------- */

enum jarg { A_ANY, A_NUM, A_STR, A_ARR, A_OBJ, A_EXPREF, A_ARR_NUM, A_ARR_STR, A_ARR_NUMSTR, A_STR_ARR, A_SAO };

struct jfunc {
	const char *name;
	int min, max; /* max -1 = variadic */
	enum jarg types[3];
};

static const struct jfunc JFUNCS[] = {
	{"abs", 1, 1, {A_NUM}},
	{"avg", 1, 1, {A_ARR_NUM}},
	{"ceil", 1, 1, {A_NUM}},
	{"contains", 2, 2, {A_STR_ARR, A_ANY}},
	{"ends_with", 2, 2, {A_STR, A_STR}},
	{"equals_ignore_case", 2, 2, {A_STR, A_STR}},
	{"floor", 1, 1, {A_NUM}},
	{"join", 2, 2, {A_STR, A_ARR_STR}},
	{"keys", 1, 1, {A_OBJ}},
	{"length", 1, 1, {A_SAO}},
	{"map", 2, 2, {A_EXPREF, A_ARR}},
	{"max", 1, 1, {A_ARR_NUMSTR}},
	{"max_by", 2, 2, {A_ARR, A_EXPREF}},
	{"merge", 1, -1, {A_OBJ}},
	{"min", 1, 1, {A_ARR_NUMSTR}},
	{"min_by", 2, 2, {A_ARR, A_EXPREF}},
	{"not_null", 1, -1, {A_ANY}},
	{"reverse", 1, 1, {A_STR_ARR}},
	{"sort", 1, 1, {A_ARR_NUMSTR}},
	{"sort_by", 2, 2, {A_ARR, A_EXPREF}},
	{"starts_with", 2, 2, {A_STR, A_STR}},
	{"sum", 1, 1, {A_ARR_NUM}},
	{"to_array", 1, 1, {A_ANY}},
	{"to_number", 1, 1, {A_ANY}},
	{"to_string", 1, 1, {A_ANY}},
	{"type", 1, 1, {A_ANY}},
	{"values", 1, 1, {A_OBJ}},
};

static bool arr_all(const json_t *a, bool (*pred)(const json_t *))
{
	size_t i;
	json_t *e;

	for (i = 0; i < json_array_size(a) && ((e) = json_array_get(a, i)) != NULL; i++)
		if (!pred(e))
			return false;
	return true;
}

static bool is_num(const json_t *v) { return json_is_number(v); }
static bool is_str(const json_t *v) { return json_is_string(v); }

static bool arg_ok(enum jarg t, const json_t *v)
{
	switch (t) {
	case A_ANY: return true;
	case A_NUM: return json_is_number(v);
	case A_STR: return json_is_string(v);
	case A_ARR: return json_is_array(v);
	case A_OBJ: return json_is_object(v);
	case A_ARR_NUM: return json_is_array(v) && arr_all(v, is_num);
	case A_ARR_STR: return json_is_array(v) && arr_all(v, is_str);
	case A_ARR_NUMSTR: return json_is_array(v) && (arr_all(v, is_num) || arr_all(v, is_str));
	case A_STR_ARR: return json_is_string(v) || json_is_array(v);
	case A_SAO: return json_is_string(v) || json_is_array(v) || json_is_object(v);
	default: return false;
	}
}

static int jcmp_sortable(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		return x < y ? -1 : x > y ? 1 : 0;
	}
	return strcmp(json_string_value(a), json_string_value(b));
}

struct keyed {
	json_t *key, *val;
	size_t pos;
};

static int keyed_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int c = jcmp_sortable(a->key, b->key);

	return c ? c : (a->pos < b->pos ? -1 : 1); /* stable */
}

/* Evaluates &expr on each element of arr; keys must all be numbers or all strings. */
static int keys_by(struct jeval *ev, const char *fn, json_t *arr, const struct jmes_expr *ref, struct keyed **out)
{
	size_t n = json_array_size(arr), i;
	struct keyed *k = calloc(n ? n : 1, sizeof(*k));
	int rc = ATTEST_OK;
	bool nums = true, strs = true;

	if (k == NULL)
		return jnomem(ev);
	for (i = 0; i < n && rc == ATTEST_OK; i++) {
		k[i].val = json_array_get(arr, i);
		k[i].pos = i;
		if ((rc = jev(ev, ref, k[i].val, &k[i].key)) != ATTEST_OK)
			break;
		nums = nums && json_is_number(k[i].key);
		strs = strs && json_is_string(k[i].key);
	}
	if (rc == ATTEST_OK && n > 0 && !nums && !strs)
		rc = jtype_err(ev, fn, "the expression must give all numbers or all strings");
	if (rc != ATTEST_OK) {
		for (size_t j = 0; j < n; j++)
			json_decref(k[j].key);
		free(k);
		return rc;
	}
	*out = k;
	return ATTEST_OK;
}

static void keys_free(struct keyed *k, size_t n)
{
	for (size_t j = 0; j < n; j++)
		json_decref(k[j].key);
	free(k);
}

static json_t *fn_minmax(json_t *a, bool max)
{
	json_t *best = NULL, *e;
	size_t i;

	for (i = 0; i < json_array_size(a) && ((e) = json_array_get(a, i)) != NULL; i++)
		if (best == NULL || (max ? jcmp_sortable(e, best) > 0 : jcmp_sortable(e, best) < 0))
			best = e;
	return best ? json_incref(best) : json_null();
}

static json_t *fn_sort(json_t *a)
{
	size_t n = json_array_size(a);
	struct keyed *k = calloc(n ? n : 1, sizeof(*k));
	json_t *res = json_array();

	if (k == NULL || res == NULL) {
		free(k);
		json_decref(res);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		k[i].key = k[i].val = json_array_get(a, i);
		k[i].pos = i;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(res, k[i].val);
	free(k);
	return res;
}

static json_t *fn_to_number(json_t *v)
{
	if (json_is_number(v))
		return json_incref(v);
	if (json_is_string(v) && json_string_length(v) > 0) {
		char *end;
		const char *s = json_string_value(v);
		double d = strtod(s, &end);

		if (*end == '\0' && !isspace((unsigned char)*s) && isfinite(d))
			return jnum(d);
	}
	return json_null();
}

static json_t *fn_reverse(json_t *v)
{
	if (json_is_array(v)) {
		json_t *res = json_array();

		for (size_t i = json_array_size(v); res && i > 0; i--)
			json_array_append(res, json_array_get(v, i - 1));
		return res;
	} else {
		size_t n = json_string_length(v);
		const char *s = json_string_value(v);
		char *r = malloc(n + 1);
		json_t *res;
		size_t o = 0;

		if (r == NULL)
			return NULL;
		/* Reverse by code point so UTF-8 stays valid. */
		for (size_t i = n; i > 0;) {
			size_t j = i - 1;

			while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
				j--;
			memcpy(r + o, s + j, i - j);
			o += i - j;
			i = j;
		}
		res = json_stringn(r, o);
		free(r);
		return res;
	}
}

static json_t *fn_join(json_t *sep, json_t *arr)
{
	size_t total = 0, i, o = 0, sl = json_string_length(sep);
	json_t *e, *res;
	char *buf;

	for (i = 0; i < json_array_size(arr) && ((e) = json_array_get(arr, i)) != NULL; i++)
		total += json_string_length(e) + sl;
	if ((buf = malloc(total + 1)) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(arr) && ((e) = json_array_get(arr, i)) != NULL; i++) {
		if (i > 0) {
			memcpy(buf + o, json_string_value(sep), sl);
			o += sl;
		}
		memcpy(buf + o, json_string_value(e), json_string_length(e));
		o += json_string_length(e);
	}
	res = json_stringn(buf, o);
	free(buf);
	return res;
}

static json_t *fn_keys_values(json_t *obj, bool keys)
{
	json_t *res = json_array();

	for (void *it = json_object_iter(obj); res != NULL && it != NULL; it = json_object_iter_next(obj, it))
		json_array_append_new(res, keys ? json_string(json_object_iter_key(it)) : json_incref(json_object_iter_value(it)));
	return res;
}

static bool ieq(json_t *a, json_t *b)
{
	return json_string_length(a) == json_string_length(b) &&
	       strncasecmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
}

static int call_by(struct jeval *ev, const char *name, json_t **a, const struct jmes_expr *ref, json_t **out)
{
	size_t n = json_array_size(a[0]);
	struct keyed *k = NULL;
	int rc = keys_by(ev, name, a[0], ref, &k);

	if (rc != ATTEST_OK)
		return rc;
	if (strcmp(name, "sort_by") == 0) {
		qsort(k, n, sizeof(*k), keyed_cmp);
		*out = json_array();
		for (size_t i = 0; *out && i < n; i++)
			json_array_append(*out, k[i].val);
	} else {
		size_t best = 0;
		bool max = strcmp(name, "max_by") == 0;

		for (size_t i = 1; i < n; i++)
			if (max ? jcmp_sortable(k[i].key, k[best].key) > 0 : jcmp_sortable(k[i].key, k[best].key) < 0)
				best = i;
		*out = n ? json_incref(k[best].val) : json_null();
	}
	keys_free(k, n);
	return *out ? ATTEST_OK : jnomem(ev);
}

static int call_map(struct jeval *ev, const struct jmes_expr *ref, json_t *arr, json_t **out)
{
	json_t *res = json_array(), *e, *r;
	size_t i;
	int rc;

	if (res == NULL)
		return jnomem(ev);
	if ((rc = jcount(ev, json_array_size(arr))) != ATTEST_OK) {
		json_decref(res);
		return rc;
	}
	for (i = 0; i < json_array_size(arr) && ((e) = json_array_get(arr, i)) != NULL; i++) {
		if ((rc = jev(ev, ref, e, &r)) != ATTEST_OK) {
			json_decref(res);
			return rc;
		}
		json_array_append_new(res, r); /* map keeps nulls */
	}
	*out = res;
	return ATTEST_OK;
}

static json_t *call_simple(const char *name, json_t **a, size_t na)
{
	if (strcmp(name, "abs") == 0)
		return json_is_integer(a[0]) ? json_integer(llabs(json_integer_value(a[0]))) : json_real(fabs(json_number_value(a[0])));
	if (strcmp(name, "ceil") == 0)
		return jnum(ceil(json_number_value(a[0])));
	if (strcmp(name, "floor") == 0)
		return jnum(floor(json_number_value(a[0])));
	if (strcmp(name, "avg") == 0 || strcmp(name, "sum") == 0) {
		double s = 0;
		size_t i, n = json_array_size(a[0]);
		json_t *e;

		for (i = 0; i < json_array_size(a[0]) && ((e) = json_array_get(a[0], i)) != NULL; i++)
			s += json_number_value(e);
		if (name[0] == 'a')
			return n ? json_real(s / (double)n) : json_null();
		return jnum(s);
	}
	if (strcmp(name, "contains") == 0) {
		if (json_is_string(a[0]))
			return json_boolean(json_is_string(a[1]) &&
					    strstr(json_string_value(a[0]), json_string_value(a[1])) != NULL);
		for (size_t i = 0; i < json_array_size(a[0]); i++)
			if (jeq(json_array_get(a[0], i), a[1]))
				return json_true();
		return json_false();
	}
	if (strcmp(name, "starts_with") == 0 || strcmp(name, "ends_with") == 0) {
		size_t n = json_string_length(a[0]), m = json_string_length(a[1]);
		const char *s = json_string_value(a[0]);

		return json_boolean(m <= n && memcmp(name[0] == 's' ? s : s + n - m, json_string_value(a[1]), m) == 0);
	}
	if (strcmp(name, "equals_ignore_case") == 0)
		return json_boolean(ieq(a[0], a[1]));
	if (strcmp(name, "join") == 0)
		return fn_join(a[0], a[1]);
	if (strcmp(name, "keys") == 0 || strcmp(name, "values") == 0)
		return fn_keys_values(a[0], name[0] == 'k');
	if (strcmp(name, "max") == 0 || strcmp(name, "min") == 0)
		return fn_minmax(a[0], name[1] == 'a');
	if (strcmp(name, "sort") == 0)
		return fn_sort(a[0]);
	if (strcmp(name, "reverse") == 0)
		return fn_reverse(a[0]);
	if (strcmp(name, "to_array") == 0)
		return json_is_array(a[0]) ? json_incref(a[0]) : json_pack("[O]", a[0]);
	if (strcmp(name, "to_number") == 0)
		return fn_to_number(a[0]);
	if (strcmp(name, "to_string") == 0) {
		char *s;
		json_t *r;

		if (json_is_string(a[0]))
			return json_incref(a[0]);
		if (!jmes_value_within(a[0], JMES_MAX_RESULT_ITEMS))
			return json_null(); /* see jmes_value_within */
		s = json_dumps(a[0], JSON_ENCODE_ANY | JSON_COMPACT);
		r = s ? json_string(s) : NULL;
		free(s);
		return r;
	}
	if (strcmp(name, "type") == 0)
		return json_string(jtype_name(a[0]));
	if (strcmp(name, "not_null") == 0) {
		for (size_t i = 0; i < na; i++)
			if (!json_is_null(a[i]))
				return json_incref(a[i]);
		return json_null();
	}
	if (strcmp(name, "merge") == 0) {
		json_t *r = json_object();

		for (size_t i = 0; r && i < na; i++)
			json_object_update(r, a[i]);
		return r;
	}
	/* length */
	if (json_is_string(a[0]))
		return json_integer((json_int_t)utf8_len(json_string_value(a[0]), json_string_length(a[0])));
	if (json_is_array(a[0]))
		return json_integer((json_int_t)json_array_size(a[0]));
	if (json_is_object(a[0]))
		return json_integer((json_int_t)json_object_size(a[0]));
	return NULL;
}

static int jcall(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out)
{
	const struct jfunc *f = NULL;
	json_t *args[16] = {NULL};
	const struct jmes_expr *ref = NULL;
	size_t na = e->nkids;
	int rc = ATTEST_OK;

	for (size_t i = 0; i < sizeof(JFUNCS) / sizeof(JFUNCS[0]); i++)
		if (strcmp(JFUNCS[i].name, e->name) == 0)
			f = &JFUNCS[i];
	if (f == NULL) {
		attest_err_set(ev->err, ATTEST_E_POLICY, "jmespath.function", "unknown function %.40s()", e->name);
		return ATTEST_E_POLICY;
	}
	if (na < (size_t)f->min || (f->max >= 0 && na > (size_t)f->max) || na > 16) {
		attest_err_set(ev->err, ATTEST_E_POLICY, "jmespath.function", "%s() takes %d argument%s, not %zu", f->name,
			       f->min, f->min == 1 ? "" : "s", na);
		return ATTEST_E_POLICY;
	}
	for (size_t i = 0; i < na && rc == ATTEST_OK; i++) {
		enum jarg t = f->types[i < 3 ? i : 2];

		if (f->max < 0)
			t = f->types[0];
		if (t == A_EXPREF) {
			if (e->kids[i]->kind != JN_EXPREF)
				rc = jtype_err(ev, f->name, "expected an expression reference (&expr)");
			ref = e->kids[i]->a;
			args[i] = json_null();
			continue;
		}
		if ((rc = jev(ev, e->kids[i], cur, &args[i])) == ATTEST_OK && !arg_ok(t, args[i]))
			rc = jtype_err(ev, f->name, "invalid argument type");
	}
	if (rc == ATTEST_OK) {
		if (strcmp(f->name, "map") == 0)
			rc = call_map(ev, ref, args[1], out);
		else if (strcmp(f->name, "sort_by") == 0 || strcmp(f->name, "max_by") == 0 || strcmp(f->name, "min_by") == 0)
			rc = call_by(ev, f->name, args, ref, out);
		else if ((*out = call_simple(f->name, args, na)) == NULL)
			rc = jnomem(ev);
	}
	for (size_t i = 0; i < na; i++)
		json_decref(args[i]);
	return rc;
}

/* ---- The walker --------------------------------------------------------------- */

static int jcompare(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out)
{
	json_t *a = NULL, *b = NULL;
	int rc;

	if ((rc = jev(ev, e->a, cur, &a)) != ATTEST_OK)
		return rc;
	if ((rc = jev(ev, e->b, cur, &b)) != ATTEST_OK) {
		json_decref(a);
		return rc;
	}
	if (e->op == JT_EQ || e->op == JT_NE) {
		*out = json_boolean(jeq(a, b) == (e->op == JT_EQ));
	} else if (!json_is_number(a) || !json_is_number(b)) {
		*out = json_null(); /* ordering of non-numbers is null (spec "Comparison Operators") */
	} else {
		double x = json_number_value(a), y = json_number_value(b);

		*out = json_boolean(e->op == JT_LT ? x < y : e->op == JT_LE ? x <= y : e->op == JT_GT ? x > y : x >= y);
	}
	json_decref(a);
	json_decref(b);
	return ATTEST_OK;
}

static int jmulti(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out)
{
	json_t *res, *v;
	int rc;

	if (json_is_null(cur)) {
		*out = json_null();
		return ATTEST_OK;
	}
	res = e->kind == JN_MLIST ? json_array() : json_object();
	if (res == NULL)
		return jnomem(ev);
	if ((rc = jcount(ev, e->nkids)) != ATTEST_OK) {
		json_decref(res);
		return rc;
	}
	for (size_t i = 0; i < e->nkids; i++) {
		if ((rc = jev(ev, e->kids[i], cur, &v)) != ATTEST_OK) {
			json_decref(res);
			return rc;
		}
		if (e->kind == JN_MLIST)
			json_array_append_new(res, v);
		else
			json_object_set_new(res, e->keys[i], v);
	}
	*out = res;
	return ATTEST_OK;
}

static int jev_inner(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out)
{
	json_t *l = NULL, *r;
	int rc;

	switch (e->kind) {
	case JN_CURRENT: *out = json_incref(cur); return ATTEST_OK;
	case JN_LITERAL:
		/* A copy: the compiled query is shared by threads, and jansson's
		 * reference counting reads the count non-atomically. */
		*out = json_deep_copy(e->lit);
		return *out ? ATTEST_OK : jnomem(ev);
	case JN_FIELD:
		r = json_is_object(cur) ? json_object_get(cur, e->name) : NULL;
		*out = r ? json_incref(r) : json_null();
		return ATTEST_OK;
	case JN_EXPREF: *out = json_null(); return ATTEST_OK;
	case JN_MLIST:
	case JN_MHASH: return jmulti(ev, e, cur, out);
	case JN_FUNC: return jcall(ev, e, cur, out);
	case JN_CMP: return jcompare(ev, e, cur, out);
	default: break;
	}
	if ((rc = jev(ev, e->a, cur, &l)) != ATTEST_OK)
		return rc;
	switch (e->kind) {
	case JN_INDEX:
		if (json_is_array(l)) {
			long long n = (long long)json_array_size(l), k = e->idx[0] < 0 ? e->idx[0] + n : e->idx[0];

			r = k >= 0 && k < n ? json_array_get(l, (size_t)k) : NULL;
			*out = r ? json_incref(r) : json_null();
		} else {
			*out = json_null();
		}
		break;
	case JN_SLICE:
		if ((rc = jcount(ev, json_is_array(l) ? json_array_size(l) : 0)) == ATTEST_OK)
			*out = json_is_array(l) ? slice(l, e) : json_null();
		break;
	case JN_SUB:
	case JN_PIPE:
		/* A sub-expression on null is null; a pipe passes the value on as is. */
		if (e->kind == JN_SUB && json_is_null(l))
			*out = json_null();
		else
			rc = jev(ev, e->b, l, out);
		break;
	case JN_FLATTEN:
		if (!json_is_array(l)) {
			*out = json_null();
			break;
		}
		*out = json_array();
		for (size_t i = 0; *out && rc == ATTEST_OK && i < json_array_size(l); i++) {
			json_t *el = json_array_get(l, i);

			if ((rc = jcount(ev, json_is_array(el) ? json_array_size(el) : 1)) != ATTEST_OK)
				break;
			if (json_is_array(el))
				json_array_extend(*out, el);
			else
				json_array_append(*out, el);
		}
		if (rc != ATTEST_OK) {
			json_decref(*out);
			*out = NULL;
		}
		break;
	case JN_PROJECT:
	case JN_FILTER:
		if (!json_is_array(l))
			*out = json_null();
		else
			rc = project(ev, e->b, l, e->kind == JN_FILTER ? e->c : NULL, out);
		break;
	case JN_VALUES:
		if (!json_is_object(l)) {
			*out = json_null();
		} else {
			json_t *vals = fn_keys_values(l, false);

			rc = vals ? project(ev, e->b, vals, NULL, out) : jnomem(ev);
			json_decref(vals);
		}
		break;
	case JN_OR:
	case JN_AND:
		if (truthy(l) == (e->kind == JN_OR)) {
			*out = json_incref(l);
		} else {
			rc = jev(ev, e->b, cur, out);
		}
		break;
	case JN_NOT: *out = json_boolean(!truthy(l)); break;
	default: *out = json_null(); break;
	}
	json_decref(l);
	if (rc == ATTEST_OK && *out == NULL)
		rc = jnomem(ev);
	return rc;
}

static int jev(struct jeval *ev, const struct jmes_expr *e, json_t *cur, json_t **out)
{
	int rc;

	if (++ev->depth > 4 * JMES_MAX_DEPTH) {
		attest_err_set(ev->err, ATTEST_E_POLICY, "jmespath.too_deep", "evaluation nested too deeply");
		return ATTEST_E_POLICY;
	}
	*out = NULL;
	rc = jev_inner(ev, e, cur, out);
	ev->depth--;
	return rc;
}

int jmes_search(const struct jmes_expr *e, json_t *data, json_t **out, struct attest_err *err)
{
	struct jeval ev = {err, 0, 0};
	json_t *null = NULL;
	int rc;

	if (data == NULL)
		data = null = json_null();
	rc = jev(&ev, e, data, out);
	json_decref(null);
	return rc;
}
