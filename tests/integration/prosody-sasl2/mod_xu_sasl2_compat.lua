-- mod_xu_sasl2_compat: lets Prosody 0.12 (Debian 12: 0.12.3, LuaSec 1.2, Lua 5.4) run the
-- prosody-modules mod_sasl2, mod_sasl2_bind2 and mod_sasl2_fast (XEP-0388/0386/0484), which
-- were written against Prosody trunk (0.13). Test-only; loaded from plugin_paths by the
-- xmpp-utils integration tests. Load order does not matter: the library additions take
-- effect at load time (each only where Prosody lacks the feature) and the hooks below carry
-- explicit priorities relative to mod_sasl2's. The library patches (1)-(4) and the filter
-- hook (6) are process-wide by nature; they are idempotent across hosts.
--
--   plugin_paths = { "/work/main/tests/integration/prosody-sasl2" }
--   modules_enabled = { ..., "xu_sasl2_compat", "sasl2", "sasl2_bind2", "sasl2_fast" }
--
-- Optional: sasl2_tls_server_end_point_cert = "/path/cert.pem" (default: this host's
-- ssl.certificate) makes HT-SHA-256-ENDP available; see (8). Not supported here:
-- mod_sasl2_sm (0.12's mod_smacks has no do_enable/do_resume); enable SM after <success>.

local st = require "util.stanza";
local dt = require "util.datetime";
local sasl = require "util.sasl";
local filters = require "util.filters";
local hex = require "util.hex";

local stanza_mt = st.stanza_mt;

-- (1) stanza:get_child_attr(name, xmlns, attr): mod_sasl2_fast reads the FAST client id
-- with it (<user-agent id=...>); 0.12's util.stanza lacks it, so <fast/> logins crash.
if not stanza_mt.get_child_attr then
	function stanza_mt:get_child_attr(name, xmlns, attr)
		local child = self:get_child(name, xmlns);
		if child then return child.attr[attr]; end
		return nil;
	end
end

-- (2) stanza:add_error(err): mod_sasl2_bind2 (bind failure) and mod_sasl2_sm use it; 0.12
-- lacks it. Accepts an util.error-like table or (type, condition, text, by), like trunk.
if not stanza_mt.add_error then
	function stanza_mt:add_error(error_type, condition, text, by)
		if type(error_type) == "table" then
			error_type, condition, text = error_type.type, error_type.condition, error_type.text;
		end
		self:tag("error", { type = error_type or "cancel", by = by })
			:tag(condition or "undefined-condition", { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" }):up();
		if text then
			self:text_tag("text", text, { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" });
		end
		return self:up();
	end
end

-- (3) util.datetime.datetime(t) with a fractional t: mod_sasl2_fast formats the token
-- expiry from util.time.now() (a float); 0.12 passes it to os.date, which on Lua 5.4
-- raises "number has no integer representation" and the <success> is never sent.
-- Patched in place (the module calls dt.datetime at run time), only if it would fail.
if not pcall(dt.datetime, 0.5) then
	local datetime = dt.datetime;
	dt.datetime = function (t)
		if t then t = math.floor(t); end
		return datetime(t);
	end
end

-- (4) SCRAM-*-PLUS with tls-exporter: mod_sasl2 adds a tls-exporter channel binding on
-- TLS 1.3 (tls-unique is undefined there), but 0.12 registers the -PLUS mechanisms for
-- tls-unique only, so on TLS 1.3 they would not be offered. Re-register the SCRAM family
-- with tls-exporter added to the binding types (the mechanism code itself is generic).
do
	local probe = sasl.new("localhost", { plain = function () end, cb = { ["tls-exporter"] = function () end } });
	if not probe:mechanisms()["SCRAM-SHA-1-PLUS"] then
		require "util.sasl.scram".init(function (name, backends, f, cb_backends)
			if cb_backends then
				cb_backends = { "tls-exporter", table.unpack(cb_backends) };
			end
			return sasl.registerMechanism(name, backends, f, cb_backends);
		end);
	end
end

-- (5) Connection methods ssl_info / ssl_peerfinished / ssl_exportkeyingmaterial, which
-- mod_sasl2 calls on session.conn for channel binding (trunk's net.server has them).
-- Built per connection on the LuaSec socket (info, getpeerfinished, exportkeyingmaterial),
-- so they work with any network_backend and touch no shared table.
local function ssl_info(conn)
	local sock = conn:socket();
	return sock and sock.info and sock:info();
end
local function ssl_peerfinished(conn)
	local sock = conn:socket();
	return sock and sock.getpeerfinished and sock:getpeerfinished();
end
local function ssl_exportkeyingmaterial(conn, label, len, context)
	local sock = conn:socket();
	return sock and sock.exportkeyingmaterial and sock:exportkeyingmaterial(label, len, context);
end

-- (6) The stream header's 'from' for the "stream-features" event (event.stream.from):
-- mod_sasl2 passes event.stream on and mod_sasl2_fast offers FAST only when it names a
-- user (it errors on a nil event.stream). 0.12's mod_c2s keeps no stream attributes, but
-- util.xmppstream's open_stream() calls session:stream_attrs(from, to) with the client's
-- 'from' as 'to' before it fires "stream-features". Every new c2s session gets such a
-- recorder through a filter hook (run at session creation, i.e. before the first stream
-- header, which matters for Direct TLS where no second header comes before SASL).
local function record_stream_from(session, _, client_from)
	session.xu_stream_from = client_from;
end
local function init_session(session)
	if session.base_type == "c2s" and not session.stream_attrs then
		session.stream_attrs = record_stream_from;
	end
end
filters.add_filter_hook(init_session);
function module.unload()
	filters.remove_filter_hook(init_session);
end

-- Runs before mod_sasl2's stream-features handler (priority 1) whatever the load order.
module:hook("stream-features", function (event)
	local conn = event.origin.conn;
	if conn and not conn.ssl_info then
		conn.ssl_info, conn.ssl_peerfinished = ssl_info, ssl_peerfinished;
		conn.ssl_exportkeyingmaterial = ssl_exportkeyingmaterial;
	end
	if not event.stream then
		event.stream = { from = event.origin.xu_stream_from, to = event.origin.host };
	end
end, 100);

-- (7) Keep mod_sasl2's SASL handler for <authenticate>. mod_sasl2 (stream-features,
-- priority 1) stores its handler, with the channel bindings it set up, in
-- session.sasl_handler; then 0.12's mod_saslauth (priority 0) overwrites that with its own,
-- which has tls-unique at most (nothing on TLS 1.3). SASL2 would then run on the wrong
-- handler: SCRAM-*-PLUS fails ("Invalid channel binding value") and HT-SHA-256-EXPR/ENDP
-- crash mod_sasl2_fast (profile.cb is nil). So remember mod_sasl2's handler while it
-- advertises, and put a fresh copy of it back when an <authenticate> arrives (fresh, so
-- that a retry after a failure, e.g. SCRAM after a rejected FAST token, also works).
-- Legacy SASL (<auth/>) keeps using mod_saslauth's handler.
-- Also: mod_sasl2_fast accepts an HT-* mechanism whose channel binding this connection
-- lacks (HT-SHA-256-UNIQ on TLS 1.3, -EXPR on TLS 1.2) and then crashes without any answer;
-- reject such a <fast/> <authenticate> with <invalid-mechanism/> here instead.
module:hook("advertise-sasl-features", function (event)
	event.origin.xu_sasl2_handler = event.origin.sasl_handler;
end, 100);
module:hook_tag("urn:xmpp:sasl:2", "authenticate", function (session, auth)
	local fast = session.fast_sasl_handler;
	if fast and auth:get_child("fast", "urn:xmpp:fast:0") and not fast:mechanisms()[auth.attr.mechanism] then
		session.send(st.stanza("failure", { xmlns = "urn:xmpp:sasl:2" })
			:tag("invalid-mechanism", { xmlns = "urn:ietf:params:xml:ns:xmpp-sasl" }));
		return true;
	end
	local handler = session.xu_sasl2_handler;
	if handler then
		session.sasl_handler = handler:clean_clone();
		session.sasl_handler.userdata = handler.userdata; -- the connection, for tls-unique etc.
	end
end, 200); -- before mod_sasl2 (0), mod_sasl2_fast and mod_sasl2_bind2 (100)
module:hook("sasl2/c2s/success", function (event)
	event.session.xu_sasl2_handler = nil;
end, 500);

-- (8) tls-server-end-point (RFC 5929) for HT-SHA-256-ENDP: mod_sasl2 never registers it
-- and LuaSec 1.2 cannot return the local certificate, so hash the configured one (the
-- SHA-256 of its DER, or the certificate's own hash if that is SHA-384/512). Only right
-- if the c2s and Direct TLS listeners present this very certificate.
local endpoint_cert = module:get_option_path("sasl2_tls_server_end_point_cert",
	(module:get_option("ssl") or {}).certificate);
local endpoint_hash;
if endpoint_cert then
	local f = io.open(endpoint_cert);
	local cert = f and require "ssl".loadcertificate(f:read("*a"));
	if f then f:close(); end
	if cert then
		local sig = (cert:getsignaturename() or ""):lower();
		endpoint_hash = hex.decode(cert:digest(sig:match("sha384") or sig:match("sha512") or "sha256"));
	else
		module:log("warn", "Cannot read %s: no tls-server-end-point binding", endpoint_cert);
	end
end
if endpoint_hash then
	-- Before mod_sasl2_fast copies the channel bindings and lists its mechanisms (priority 0).
	module:hook("advertise-sasl-features", function (event)
		local handler = event.origin.sasl_handler;
		if event.origin.encrypted and handler and handler.add_cb_handler then
			handler:add_cb_handler("tls-server-end-point", function () return endpoint_hash; end);
		end
	end, 100);
end
