// Words of the dashboard in Chinese (first) and English. Names that come from the data carry both.

const WORDS = {
  skip: ["跳到主要内容", "Skip to main content"],
  title: ["城市运行体征", "City vital signs"],
  "nav.overview": ["一屏观全域", "Whole district"],
  "live.on": ["实时", "Live"],
  "live.off": ["未连接", "Not connected"],
  logout: ["退出", "Log out"],
  close: ["关闭", "Close"],
  "login.title": ["登录城市运行管理中心", "Log in to the city operations centre"],
  "login.hint": ["使用工作人员账号登录，或粘贴访问令牌。", "Log in with your staff account, or paste an access token."],
  "login.user": ["账号", "Account"],
  "login.password": ["密码", "Password"],
  "login.useToken": ["使用令牌登录", "Log in with a token"],
  "login.token": ["访问令牌", "Access token"],
  "login.submit": ["登录", "Log in"],
  "login.noAccess": ["此账号不能使用运行管理大屏。", "This account cannot use the operations dashboard."],
  "login.missing": ["请输入账号和密码，或访问令牌。", "Enter an account and password, or a token."],
  "vitals.title": ["运行体征", "Vital signs"],
  "vitals.empty": ["尚无指标数值：传感器数据到达后即显示。", "No indicator values yet: they appear as sensor data arrives."],
  "map.title": ["城市一张图", "District map"],
  "map.layers": ["图层", "Layers"],
  "map.openUnit": ["单元孪生", "Unit twin"],
  "map.pickUnit": ["选择最小管理单元…", "Choose a management unit…"],
  "layer.streets": ["街道", "Streets"],
  "layer.grids": ["网格", "Grids"],
  "layer.units": ["最小管理单元", "Management units"],
  "layer.buildings": ["建筑", "Buildings"],
  "layer.sensors": ["传感器", "Sensors"],
  "layer.warnings": ["预警", "Warnings"],
  "layer.cases": ["工单", "Cases"],
  "layer.offline": ["离线设备", "Offline devices"],
  "layer.allTypes": ["全部类型", "All types"],
  "layer.noSensors": ["不显示", "None"],
  "warnings.title": ["预警", "Warnings"],
  "warnings.none": ["当前没有预警。", "No warnings in force."],
  "warnings.ack": ["确认", "Acknowledge"],
  "warnings.acked": ["已确认", "Acknowledged"],
  "warnings.raised": ["发布", "raised"],
  "cases.title": ["工单", "Cases"],
  "cases.department": ["部门", "Department"],
  "cases.toDispatch": ["待派遣", "To dispatch"],
  "cases.queue": ["部门待办", "Department queue"],
  "cases.open": ["在办", "In progress"],
  "cases.none": ["没有工单。", "No cases."],
  "cases.due": ["时限", "due"],
  "cases.history": ["办理记录", "History"],
  "cases.actionsAs": ["可执行操作", "Actions"],
  "cases.noActions": ["当前身份无可执行操作。", "Nothing this account may do on this case now."],
  "cases.reason": ["原因 / 说明", "Reason / note"],
  "cases.result": ["办理结果", "Result"],
  "cases.rating": ["评价", "Rating"],
  "cases.due.new": ["新时限", "New due time"],
  "cases.confirm": ["提交", "Submit"],
  "cases.as": ["身份", "as"],
  "cases.text": ["内容", "Text"],
  "cases.category": ["类别", "Category"],
  "cases.place": ["地点", "Place"],
  "cases.source": ["来源", "Source"],
  "cases.state": ["状态", "State"],
  "cases.done": ["已办理", "Done"],
  "priority.urgent": ["特急", "urgent"],
  "priority.high": ["紧急", "high"],
  "priority.normal": ["一般", "normal"],
  "priority.low": ["较缓", "low"],
  "fig.online": ["设备在线", "Devices online"],
  "fig.offline": ["设备离线", "Devices offline"],
  "fig.deadLetters": ["死信", "Dead letters"],
  "fig.cases": ["30天工单", "Cases, 30 days"],
  "fig.onTime": ["按时办结率", "On time"],
  "fig.handling": ["平均办理时长", "Mean handling"],
  "fig.returns": ["退单率", "Returned"],
  "fig.reopens": ["重办率", "Reopened"],
  "fig.satisfaction": ["满意率", "Satisfied"],
  "fig.prewarnings": ["预测预警", "Pre-warnings"],
  "fig.hours": ["小时", "h"],
  "trend.up": ["上升", "rising"],
  "trend.down": ["下降", "falling"],
  "trend.steady": ["平稳", "steady"],
  "details.openTwin": ["打开数字孪生", "Open the digital twin"],
  "details.value": ["数值", "Value"],
  "details.online": ["在线", "online"],
  "details.offline": ["离线", "offline"],
  "details.never": ["未上线", "never seen"],
  "details.floors": ["地上层数", "Floors"],
  "details.category": ["类别", "Category"],
  "twin.back": ["返回全域", "Back to the district"],
  "twin.contents": ["单元内物体", "What is inside"],
  "twin.buildings": ["建筑", "Buildings"],
  "twin.sensors": ["传感器", "Sensors"],
  "twin.indicators": ["体征指标", "Indicators"],
  "twin.history": ["历史与预测", "History and forecast"],
  "twin.forecast": ["预测", "Forecast"],
  "twin.band": ["95% 区间", "95% interval"],
  "twin.warnings": ["预警", "Warnings"],
  "twin.cases": ["工单", "Cases"],
  "twin.diagnosis": ["异常诊断", "Anomaly diagnosis"],
  "twin.diagnose": ["诊断", "Diagnose"],
  "twin.whatif": ["模拟推演", "What-if run"],
  "twin.input": ["输入指标", "Input"],
  "twin.change": ["变化 (%)", "Change (%)"],
  "twin.minutes": ["持续 (分钟)", "For (minutes)"],
  "twin.run": ["推演", "Run"],
  "twin.baseline": ["基准预测", "Baseline"],
  "twin.scenario": ["推演情景", "Scenario"],
  "twin.noWhatif": ["本单元没有可推演的指标。", "This unit has no indicator to run a what-if on."],
  "twin.noHistory": ["尚无历史数据", "No history yet"],
  "twin.name": ["名称", "Name"],
  "twin.type": ["类型", "Type"],
  "twin.value": ["当前值", "Value"],
  "twin.state": ["状态", "State"],
  "twin.none": ["无", "None"],
  "legend.case.new": ["工单：待派遣", "Case: to dispatch"],
  "legend.case.dispatched": ["已派遣", "dispatched"],
  "legend.case.working": ["处置中", "in hand"],
  "legend.case.done": ["待核查", "to check"],
  "level.0": ["正常", "Normal"],
  "level.1": ["蓝色 IV级", "Blue IV"],
  "level.2": ["黄色 III级", "Yellow III"],
  "level.3": ["橙色 II级", "Orange II"],
  "level.4": ["红色 I级", "Red I"],
  "nav.data": ["数据资源", "Data resources"],
  "data.title": ["数据资源", "Data resources"],
  "data.catalogue": ["资源目录", "Catalogue"],
  "data.grants": ["授权共享", "Grants"],
  "data.usage": ["数据使用记录", "Who used my data"],
  "data.classification": ["资源分类", "Classification"],
  "data.all": ["全部", "All"],
  "data.department": ["提供部门", "Provider"],
  "data.allDepartments": ["全部部门", "All departments"],
  "data.search": ["搜索", "Search"],
  "data.searchHint": ["名称、摘要、数据项", "name, abstract, data items"],
  "data.total": ["条资源", "entries"],
  "data.none": ["没有符合条件的资源。", "No entries match."],
  "data.code": ["资源代码", "Code"],
  "data.name": ["资源名称", "Name"],
  "data.level": ["分级", "Level"],
  "data.sharing": ["共享类型", "Sharing"],
  "data.opening": ["开放类型", "Opening"],
  "data.format": ["格式", "Format"],
  "data.updateCycle": ["更新周期", "Update cycle"],
  "data.published": ["发布日期", "Published"],
  "data.sourceSystem": ["来源系统", "Source system"],
  "data.conditions": ["共享条件", "Sharing conditions"],
  "data.versions": ["版本", "Versions"],
  "data.items": ["数据项", "Data items"],
  "data.item": ["数据项", "Item"],
  "data.kind": ["类型", "Kind"],
  "data.source": ["数源部门", "Source"],
  "data.sourceEntry": ["数源目录", "Source entry"],
  "data.grantsOn": ["本资源的授权", "Grants on this entry"],
  "data.requestThis": ["申请授权", "Request a grant"],
  "data.back": ["返回目录", "Back to the catalogue"],
  "data.mine": ["我申请的", "Asked for"],
  "data.onMine": ["我提供的", "On my entries"],
  "data.every": ["全部授权", "All grants"],
  "data.noGrants": ["没有授权。", "No grants."],
  "data.request": ["申请数据授权", "Request a grant"],
  "data.entry": ["资源代码", "Entry code"],
  "data.itemsPick": ["申请的数据项（全选即整个资源）", "Items (all checked: the whole entry)"],
  "data.records": ["按授权读取数据", "Read the records through the rules"],
  "data.read": ["读取", "Read"],
  "data.masked": ["脱敏", "masked"],
  "data.scenario": ["应用场景", "Scenario"],
  "data.purpose": ["用途", "Purpose"],
  "data.legalBasis": ["法律依据", "Legal basis"],
  "data.startsAt": ["开始日期", "Starts"],
  "data.endsAt": ["截止日期", "Ends"],
  "data.submit": ["提交申请", "Submit"],
  "data.requester": ["申请部门", "Requester"],
  "data.state": ["状态", "State"],
  "data.period": ["期限", "Period"],
  "data.reason": ["原因 / 说明", "Reason / note"],
  "data.confirm": ["确认", "Confirm"],
  "data.history": ["审批记录", "History"],
  "data.move.request": ["申请", "Requested"],
  "data.move.approve": ["批准", "Approve"],
  "data.move.narrow": ["缩小范围后批准", "Approve narrowed"],
  "data.move.refuse": ["不予授权", "Refuse"],
  "data.move.revoke": ["撤销", "Revoke"],
  "data.subject": ["公民身份号码或统一社会信用代码", "ID number or unified social credit code"],
  "data.lookup": ["查询", "Look up"],
  "data.usageHint": ["核验来访人身份后查询：哪些部门因何读取了其数据。", "After checking who asks: which departments read their data, and why."],
  "data.noUsage": ["没有使用记录。", "No reads recorded."],
  "data.at": ["时间", "Time"],
  "data.reader": ["使用部门", "Department"],
  "data.grant": ["授权", "Grant"],
  "data.city": ["城市运行中心", "The city"],
  "data.sharing.unconditional": ["无条件共享", "Unconditional"],
  "data.sharing.conditional": ["有条件共享", "Conditional"],
  "data.sharing.none": ["不予共享", "Not shared"],
  "data.opening.unconditional": ["无条件开放", "Open"],
  "data.opening.conditional": ["有条件开放", "Conditionally open"],
  "data.opening.none": ["不予开放", "Not open"],
  "data.audit": ["审计查看", "Audit"],
  "data.auditHint": ["受管数据的每次读取和每次数据使用记录查询，按时间倒序。", "Every read of governed data and every lookup of who used it, newest first."],
  "data.auditKind.read": ["读取", "Read"],
  "data.auditKind.lookup": ["使用记录查询", "Usage lookup"],
  "data.allKinds": ["全部类型", "All kinds"],
  "data.readingDept": ["读取部门", "Reading department"],
  "data.route": ["接口", "API"],
  "data.since": ["起始日期", "From"],
  "data.until": ["截止日期（不含）", "Until (exclusive)"],
  "data.principal": ["操作人", "Principal"],
  "data.count": ["条数", "Records"],
  "data.filter": ["筛选", "Filter"],
  "data.noAudit": ["没有审计记录。", "No audit records."],
  "data.prev": ["上一页", "Previous"],
  "data.next": ["下一页", "Next"],
  "data.chain": ["审计链", "Audit chain"],
  "data.chainHead": ["链头", "Head"],
  "data.chainSealed": ["最近封签", "Last seal"],
  "data.chainUnsealed": ["封签后记录", "Records after it"],
  "data.chainOk": ["链头与封签一致", "Head and seal consistent"],
  "data.chainBad": ["链头或封签异常", "Head or seal inconsistent"],
  "data.lifts": ["不脱敏的最高分级", "Highest level shown unmasked"],
  "data.liftsKeep": ["保持不变", "Keep as granted"],
  "data.objections": ["数据异议", "Objections"],
  "obj.title": ["数据异议纠错", "Objections to data values"],
  "obj.hint": ["异议由数据项的唯一数据源部门在5个工作日内核实、更正或驳回；逾期的排在最前。",
    "The item's one source verifies, corrects or rejects an objection within 5 working days; overdue ones come first."],
  "obj.onMine": ["本部门数据项的异议", "On my items"],
  "obj.mine": ["本部门提出的异议", "Mine"],
  "obj.count": ["条异议", "objections"],
  "obj.none": ["没有异议。", "No objections."],
  "obj.record": ["记录", "Record"],
  "obj.item": ["数据项", "Item"],
  "obj.objector": ["提出部门", "Objector"],
  "obj.source": ["数据源", "Source"],
  "obj.value": ["异议值", "Value"],
  "obj.evidence": ["异议依据", "Evidence"],
  "obj.proposed": ["建议值（可选）", "Proposed value (optional)"],
  "obj.newValue": ["更正后的值", "Corrected value"],
  "obj.corrected": ["已更正为", "Corrected to"],
  "obj.due": ["办理时限", "Due"],
  "obj.overdue": ["已逾期", "Overdue"],
  "obj.disputed": ["有异议", "Disputed"],
  "obj.object": ["提出异议", "Object"],
  "obj.submit": ["提交异议", "Submit objection"],
  "obj.submitted": ["异议已提交", "Objection submitted"],
  "obj.notices": ["数据更正通知", "Corrections of data I read"],
  "obj.noNotices": ["没有更正通知。", "No corrections."],
  "obj.before": ["原值", "Before"],
  "obj.after": ["更正值", "After"],
  "obj.move.submit": ["提出异议", "Submitted"],
  "obj.move.accept": ["受理核实", "Accept to verify"],
  "obj.move.correct": ["更正", "Correct"],
  "obj.move.reject": ["驳回", "Reject"],
  "obj.move.withdraw": ["撤回", "Withdraw"],
  error: ["出错了", "Something went wrong"],
  forbidden: ["无权限", "Not allowed"],
};

const DEPARTMENTS = {
  "public-security": ["公安黄浦分局", "Public Security Sub-bureau"],
  "urban-management": ["区城管执法局", "Urban Management Bureau"],
  "city-appearance": ["区绿化市容局", "Greening and City Appearance Bureau"],
  transport: ["区交通委", "Transport Commission"],
  "ecology-environment": ["区生态环境局", "Ecology and Environment Bureau"],
  "water-affairs": ["区水务局", "Water Affairs Bureau"],
  meteorology: ["区气象局", "Meteorological Bureau"],
  housing: ["区房屋管理局", "Housing Administration Bureau"],
  "fire-rescue": ["区消防救援支队", "Fire and Rescue Detachment"],
  "street-office": ["街道办事处", "Subdistrict office"],
  "civil-affairs": ["区民政局", "Civil Affairs Bureau"],
  "emergency-management": ["区应急管理局", "Emergency Management Bureau"],
  "market-regulation": ["区市场监管局", "Market Regulation Bureau"],
};

// Departments that hold catalogue entries but take no cases: named, never offered for dispatch.
const OTHER_DEPARTMENTS = {
  "planning-resources": ["区规划资源局", "Planning and Natural Resources Bureau"],
  health: ["区卫生健康委", "Health Commission"],
  education: ["区教育局", "Education Bureau"],
  "operations-center": ["区城市运行管理中心", "City Operations Centre"],
  "human-resources": ["区人力资源社会保障局", "Human Resources and Social Security Bureau"],
  "big-data": ["区大数据中心", "Big Data Centre"],
  tax: ["区税务局", "Tax Bureau"],
};

let lang = localStorage.getItem("cityos.lang") === "en" ? "en" : "zh";
const listeners = [];

export const getLang = () => lang;

export function t(key) {
  const w = WORDS[key];
  return w ? w[lang === "zh" ? 0 : 1] : key;
}

// A {zh, en} name from the data (or nameZh/nameEn fields), in the page's language.
export function pick(name, fallback = "") {
  if (!name) return fallback;
  if (typeof name === "string") return name;
  return (lang === "zh" ? name.zh : name.en) || name.zh || name.en || fallback;
}

export function departmentName(code) {
  const d = DEPARTMENTS[code] || OTHER_DEPARTMENTS[code];
  return d ? d[lang === "zh" ? 0 : 1] : code || "—";
}

export const departmentCodes = () => Object.keys(DEPARTMENTS);

export function levelName(level) {
  return t(`level.${level || 0}`);
}

export function applyWords(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => el.setAttribute("aria-label", t(el.dataset.i18nLabel)));
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  localStorage.setItem("cityos.lang", lang);
  applyWords();
  listeners.forEach((f) => f(lang));
}

export function onLang(f) { listeners.push(f); }

const TZ = "Asia/Shanghai";
export function time(iso, withDate = false) {
  if (!iso) return "—";
  const d = new Date(iso);
  const opts = { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(opts, { month: "2-digit", day: "2-digit" });
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", opts);
}

export function num(v, digits = 1) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v !== "number") return String(v);
  const abs = Math.abs(v);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(digits, 1) : digits;
  return v.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: d });
}
