import { esc, page, px, scriptJson } from "./html.js";
import type { Diagram, Lane } from "./model.js";

/**
 * The diagram as one self-contained HTML page: an inline SVG (time rightwards, one lane per
 * process life) already laid out to fit, and a small script for zoom, pan, the sender filter
 * and the details panel. Every drawn element carries its time(s) in `data-t`/`data-t2` (ms
 * from the first event) and its detail index in `data-i`.
 *
 * Classes the browser test counts: `line.life` (one per lane), `line.a` (send → delivery
 * arrows), `line.r` (retransmissions), `line.x` (drops), `rect.h` (hold-back bars).
 */

const LEFT = 200;
const TOP = 62;
const LANE_H = 48;
const WIDTH = 1200;
/** Length of a drop's arrow towards its target, px. */
const DROP_DX = 16;
const PALETTE = [
  "#1f77b4",
  "#2ca02c",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];

const color = (n: number): string => PALETTE[n % PALETTE.length] as string;

const CSS = `
#bar{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin-top:4px}
#bar button{font:inherit;padding:1px 8px}
.viol{background:#fde8e8;border:1px solid #e0a0a0;padding:4px 8px;margin:4px 0;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px}
#wrap{position:relative}
svg#d{display:block;width:100%;user-select:none;cursor:grab}
svg#d.drag{cursor:grabbing}
#info{position:fixed;right:10px;bottom:10px;max-width:46em;margin:0;padding:6px 10px;background:#fffff0;border:1px solid #bbb;font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;box-shadow:0 1px 4px #0003;min-height:1em}
#info:empty{display:none}
.legend span{margin-right:10px;white-space:nowrap}
.life{stroke:#999;stroke-width:2}
.lanebg{fill:#f6f7f9}
.lbl{font-size:12px;fill:#222}
.lbl2{font-size:10px;fill:#777}
.tick{stroke:#e4e4e4}
.tickl{font-size:10px;fill:#666}
.a{stroke-width:1;stroke-opacity:.7;marker-end:url(#ah)}
#d.dense .a,#d.dense .r{marker-end:none}
.r{stroke:#e67e22;stroke-width:1.2;stroke-dasharray:4 3;marker-end:url(#ah)}
.x{stroke:#c0392b;stroke-width:1.2;marker-end:url(#xx)}
.x.c{stroke:#e6a5a5}
.h{fill:#fad7a0}
.st{stroke-dasharray:1 3}
.ep{stroke-width:1.5;stroke-dasharray:2 3}
.ep.view{stroke:#c39bd3}.ep.leader{stroke:#d4ac0d}
.epl{font-size:10px;transform:translate(3px,0)}
.epl.view{fill:#8e44ad}.epl.leader{fill:#9a7d0a}
.hot{stroke:#e00000!important;stroke-width:2.6!important;stroke-opacity:1!important}
use.hot{fill:#e00000!important}
.sel{stroke-width:3.5!important;stroke-opacity:1!important}
use.sel{filter:drop-shadow(0 0 2px #000)}
[data-i]{cursor:pointer}
`;

/** Mark symbols, centred on (0, 0). */
const DEFS = `<defs>
<marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#333"/></marker>
<marker id="xx" viewBox="0 0 10 10" refX="5" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto"><path d="M1 1L9 9M9 1L1 9" stroke="#c0392b" stroke-width="2"/></marker>
<g id="m-send"><circle r="3.2"/></g>
<g id="m-start"><rect x="-1.5" y="-8" width="3" height="16" fill="#555"/></g>
<g id="m-restart"><circle r="6" fill="#27ae60"/><path d="M-2.5 -3.5L3.5 0L-2.5 3.5z" fill="#fff"/></g>
<g id="m-crash"><path d="M-6 -6L6 6M6 -6L-6 6" stroke="#c00" stroke-width="3"/></g>
<g id="m-killed"><rect x="-2" y="-9" width="4" height="18" fill="#c00"/></g>
<g id="m-rejoined"><path d="M-5 -8L0 0L-5 8" fill="none" stroke="#27ae60" stroke-width="2.5"/></g>
<g id="m-stop"><rect x="-5" y="-5" width="10" height="10" fill="#333"/></g>
<g id="m-retx"><path d="M0 -6L5 0L0 6L-5 0z" fill="#e67e22"/></g>
<g id="m-view"><path d="M0 -10L4 0L0 10L-4 0z" fill="#8e44ad"/></g>
<g id="m-leader"><path d="M-6 5L-6 -3L-3 1L0 -6L3 1L6 -3L6 5z" fill="#d4ac0d" stroke="#7d6608" stroke-width=".8"/></g>
<g id="m-missing"><circle r="7" fill="#e00000" stroke="none"/><text y="4" text-anchor="middle" font-size="11" font-weight="bold" fill="#fff" stroke="none">?</text></g>
</defs>`;

/** The client: zoom (wheel, buttons), pan (drag), fit, sender filter, details on hover/click. */
const SCRIPT = `(function(){
"use strict";
var svg=document.getElementById("d");
var L=+svg.getAttribute("data-left"),span=+svg.getAttribute("data-span");
var D=JSON.parse(document.getElementById("details").textContent);
var info=document.getElementById("info");
var axis=document.getElementById("axis");
var H=+svg.getAttribute("height");
var els=[];
var all=svg.querySelectorAll("[data-t]");
for(var n=0;n<all.length;n++){var e=all[n];els.push({e:e,tag:e.tagName,t:+e.getAttribute("data-t"),t2:e.hasAttribute("data-t2")?+e.getAttribute("data-t2"):NaN,dx:+(e.getAttribute("data-dx")||0)});}
var v0=0,k=1,pending=false,MAXHEADS=300;
var arrows=els.filter(function(o){return o.e.classList.contains("a")||o.e.classList.contains("r");});
function plotW(){return Math.max(200,svg.clientWidth-L-16);}
function X(t){return L+(t-v0)*k;}
function nice(x){var p=Math.pow(10,Math.floor(Math.log10(x)));var m=x/p;return (m<1.5?1:m<3.5?2:m<7.5?5:10)*p;}
function fmt(ms,step){if(step>=1000)return (ms/1000).toFixed(step>=10000?0:1)+" s";if(step>=1)return ms.toFixed(0)+" ms";return ms.toFixed(Math.min(3,Math.ceil(-Math.log10(step))))+" ms";}
function drawAxis(){var w=plotW();var step=nice(100/k);var first=Math.ceil(v0/step)*step;var s="";
for(var t=first;t<=v0+w/k;t+=step){var x=X(t).toFixed(1);s+='<line class="tick" x1="'+x+'" x2="'+x+'" y1="30" y2="'+H+'"/><text class="tickl" x="'+x+'" y="24" text-anchor="middle">'+fmt(t,step)+"</text>";}
axis.innerHTML=s;}
function layout(){pending=false;for(var i=0;i<els.length;i++){var o=els[i],x=X(o.t);
if(o.tag==="line"){o.e.setAttribute("x1",x);o.e.setAttribute("x2",isNaN(o.t2)?x+o.dx:X(o.t2));}
else if(o.tag==="rect"){o.e.setAttribute("x",x);o.e.setAttribute("width",Math.max(1,X(o.t2)-x));}
else o.e.setAttribute("x",x);}
var shown=0,w=plotW();for(var j=0;j<arrows.length;j++){var a=arrows[j];if(X(a.t2)>=L&&X(a.t)<=L+w)shown++;}
svg.classList.toggle("dense",shown>MAXHEADS);
drawAxis();}
function later(){if(!pending){pending=true;requestAnimationFrame(layout);}}
function show(a,b){k=plotW()/Math.max(b-a,0.001);v0=a;layout();}
function fit(){show(0,span);}
var focus=(svg.getAttribute("data-focus")||"").split(" ").map(Number);
function zoom(f,px){var tm=v0+(px-L)/k;k=Math.min(Math.max(k*f,1e-6),1e6);v0=tm-(px-L)/k;later();}
svg.addEventListener("wheel",function(ev){ev.preventDefault();var r=svg.getBoundingClientRect();zoom(Math.exp(-ev.deltaY*0.002),ev.clientX-r.left);},{passive:false});
var drag=null;
svg.addEventListener("pointerdown",function(ev){drag={x:ev.clientX,v:v0,moved:false};svg.classList.add("drag");});
window.addEventListener("pointermove",function(ev){if(!drag)return;var dx=ev.clientX-drag.x;if(Math.abs(dx)>2)drag.moved=true;v0=drag.v-dx/k;later();});
window.addEventListener("pointerup",function(){svg.classList.remove("drag");setTimeout(function(){drag=null;},0);});
document.getElementById("fit").onclick=fit;
document.getElementById("zin").onclick=function(){zoom(2,L+plotW()/2);};
document.getElementById("zout").onclick=function(){zoom(0.5,L+plotW()/2);};
var boxes=document.querySelectorAll("input[data-sender]");
for(var b=0;b<boxes.length;b++){boxes[b].addEventListener("change",function(ev){var c=ev.target;svg.classList.toggle("hide-s"+c.getAttribute("data-sender"),!c.checked);});}
var pinned=null,hovered=null;
function select(el){if(hovered)hovered.classList.remove("sel");hovered=el;if(el){el.classList.add("sel");info.textContent=D[+el.getAttribute("data-i")];}else info.textContent="";}
svg.addEventListener("mouseover",function(ev){if(pinned)return;var el=ev.target.closest("[data-i]");if(el)select(el);});
svg.addEventListener("mouseout",function(ev){if(pinned)return;if(ev.target.closest("[data-i]"))select(null);});
svg.addEventListener("click",function(ev){if(drag&&drag.moved)return;var el=ev.target.closest("[data-i]");pinned=el;select(el);});
window.addEventListener("resize",later);
if(focus.length===2&&focus[1]>focus[0])show(focus[0],focus[1]);else fit();
document.getElementById("msgs").onclick=function(){if(focus.length===2&&focus[1]>focus[0])show(focus[0],focus[1]);};
})();`;

const laneY = (i: number): number => TOP + i * LANE_H + LANE_H / 2;

function laneLabel(l: Lane): string {
  const ends = {
    crash: " · crashed",
    stop: " · stopped",
    killed: " · ended",
    rejoined: " · rejoined",
    open: "",
  };
  const again = l.rejoin !== undefined ? " (rejoin)" : l.life > 1 ? " (restart)" : "";
  return `node ${l.node} · life ${l.life}${again}${ends[l.end]}`;
}

export function renderDiagram(d: Diagram): string {
  const span = Math.max(d.t1 - d.t0, 0.001);
  const k = WIDTH / span;
  const rel = (t: number): number => Math.round((t - d.t0) * 1000) / 1000;
  const X = (t: number): string => px(LEFT + (t - d.t0) * k);
  const height = TOP + d.lanes.length * LANE_H + 10;
  const [fa, fb] = d.focus;
  const pad = (fb - fa) * 0.03 + 0.01;
  const focus = `${rel(Math.max(d.t0, fa - pad))} ${rel(Math.min(d.t1, fb + pad))}`;
  const dense = d.arrows.length > 300 ? ' class="dense"' : "";
  const out: string[] = [];
  const sel = (s: number | undefined): string => (s === undefined ? "" : ` s${s}`);
  const hot = (h: boolean): string => (h ? " hot" : "");

  out.push(
    `<svg id="d"${dense} xmlns="http://www.w3.org/2000/svg" height="${height}" data-left="${LEFT}" data-span="${rel(d.t1)}" data-focus="${focus}">`,
  );
  out.push(DEFS);
  out.push(
    `<clipPath id="plot"><rect x="${LEFT - 8}" y="0" width="100000" height="${height}"/></clipPath>`,
  );
  d.lanes.forEach((l, i) => {
    if (l.node % 2 === 0)
      out.push(
        `<rect class="lanebg" x="0" y="${TOP + i * LANE_H}" width="100%" height="${LANE_H}"/>`,
      );
  });
  out.push('<g id="axis"></g>');
  out.push('<g clip-path="url(#plot)">');
  for (const e of d.epochs) {
    out.push(
      `<line class="ep ${e.kind}" data-t="${rel(e.t)}" x1="${X(e.t)}" x2="${X(e.t)}" y1="${e.kind === "view" ? TOP - 28 : TOP - 15}" y2="${height - 4}" data-i="${e.detail}"/><text class="epl ${e.kind}" data-t="${rel(e.t)}" x="${X(e.t)}" y="${e.kind === "view" ? TOP - 19 : TOP - 6}" data-i="${e.detail}">${esc(e.label)}</text>`,
    );
  }
  d.lanes.forEach((l, i) => {
    const y = laneY(i);
    out.push(
      `<line class="life" data-t="${rel(l.t0)}" data-t2="${rel(l.t1)}" x1="${X(l.t0)}" x2="${X(l.t1)}" y1="${y}" y2="${y}"/>`,
    );
  });
  for (const h of d.holds) {
    const y = laneY(h.lane);
    out.push(
      `<rect class="h${sel(h.sender)}" data-t="${rel(h.t)}" data-t2="${rel(h.t2)}" x="${X(h.t)}" width="${px(Math.max(1, (h.t2 - h.t) * k))}" y="${y - 5}" height="10" data-i="${h.detail}"/>`,
    );
  }
  for (const a of d.arrows) {
    const y1 = laneY(a.from);
    const y2 = laneY(a.to);
    const cls = {
      msg: `a${sel(a.sender)}`,
      history: `a st${sel(a.sender)}`,
      retx: `r${sel(a.sender)}`,
    }[a.kind];
    const style = a.kind === "retx" ? "" : ` stroke="${color(a.sender)}"`;
    out.push(
      `<line class="${cls}${hot(a.hot)}"${style} data-t="${rel(a.t)}" data-t2="${rel(a.t2)}" x1="${X(a.t)}" x2="${X(a.t2)}" y1="${y1}" y2="${y2}" data-i="${a.detail}"/>`,
    );
  }
  for (const x of d.drops) {
    const y1 = laneY(x.from);
    const target = x.to >= 0 ? laneY(x.to) : y1 + LANE_H;
    const y2 = y1 + (target - y1) * 0.4 || y1 + LANE_H * 0.4;
    out.push(
      `<line class="x${x.control ? " c" : ""}${sel(x.sender)}" data-t="${rel(x.t)}" data-dx="${DROP_DX}" x1="${X(x.t)}" x2="${px(LEFT + (x.t - d.t0) * k + DROP_DX)}" y1="${y1}" y2="${px(y2)}" data-i="${x.detail}"/>`,
    );
  }
  for (const m of d.marks) {
    const fill = m.kind === "send" && m.sender !== undefined ? ` fill="${color(m.sender)}"` : "";
    out.push(
      `<use href="#m-${m.kind}" class="m ${m.kind}${sel(m.sender)}${hot(m.hot)}"${fill} data-t="${rel(m.t)}" x="${X(m.t)}" y="${laneY(m.lane)}" data-i="${m.detail}"/>`,
    );
  }
  out.push("</g>");
  out.push(
    `<rect x="0" y="${TOP}" width="${LEFT - 10}" height="${height - TOP}" fill="#fff" opacity=".85"/>`,
  );
  d.lanes.forEach((l, i) => {
    const y = laneY(i);
    out.push(
      `<text class="lbl" x="8" y="${y - 2}" fill="${color(l.node)}">${esc(laneLabel(l))}</text><text class="lbl2" x="8" y="${y + 11}">inc ${l.inc}</text>`,
    );
  });
  out.push("</svg>");

  const c = d.counts;
  const filter = d.nodes
    .map(
      (n) =>
        `<label style="color:${color(n)}"><input type="checkbox" checked data-sender="${n}"> ${n}</label>`,
    )
    .join(" ");
  const hideCss = d.nodes.map((n) => `#d.hide-s${n} .s${n}{display:none}`).join("\n");
  const viol = d.violations.map((v) => `<div class="viol">${esc(v)}</div>`).join("");
  const body = `<header>
<h1>${esc(d.title)}</h1>
<div>${d.lanes.length} lane(s) for ${d.nodes.length} node(s) · ${c.messages} message(s) sent · ${c.deliveries} deliveries · ${c.datagrams} datagram(s), ${c.retransmissions} retransmission(s), ${c.drops} dropped · ${(span).toFixed(1)} ms</div>
${viol}
<div id="bar"><button id="fit">whole run</button><button id="msgs">messages</button><button id="zin">zoom in</button><button id="zout">zoom out</button>
<span>senders: ${filter}</span>
<span class="legend"><span>● send</span><span>→ delivery</span><span style="color:#e67e22">⇢ ◆ retransmission</span><span style="color:#c0392b">→✕ dropped</span><span style="color:#d68910">▬ held back</span><span style="color:#8e44ad">◆ view</span><span style="color:#b7950b">♛ leader</span><span style="color:#27ae60">▶ restart</span><span style="color:#c00">✕ crash</span></span>
<span style="color:#777">wheel: zoom · drag: pan · hover/click: details</span></div>
</header>
<div id="wrap">${out.join("\n")}</div>
<pre id="info"></pre>
<script type="application/json" id="details">${scriptJson(d.details)}</script>
<script>${SCRIPT}</script>`;
  return page(d.title, `${CSS}\n${hideCss}`, body);
}
