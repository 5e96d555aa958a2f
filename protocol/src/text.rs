//! Every text the pages show, in English and Simplified Chinese, as enums: no page can forget
//! one language. Here rather than in the app because the edge writes the PC page's first view
//! (`edge/README.md`, "The first code, served with the page") in the same words.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }

    /// The language for a browser preference such as `zh-CN`, `zh-Hans` or `en-GB`.
    pub fn from_preference(preference: &str) -> Self {
        if preference.to_ascii_lowercase().starts_with("zh") {
            Self::Zh
        } else {
            Self::En
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Zh,
            Self::Zh => Self::En,
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Zh => "简体中文",
        }
    }
}

/// A text in both languages. Each bundle links only the texts of the enums it uses, so the
/// PC page does not carry the phone pages' texts.
pub trait Localized: Copy + Send + Sync + 'static {
    fn get(self, lang: Lang) -> &'static str;
}

macro_rules! texts {
    ($(#[$doc:meta])* $name:ident { $($key:ident => $en:literal, $zh:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($key),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$key),*];
        }

        impl Localized for $name {
            fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$key, Lang::En) => $en, ($name::$key, Lang::Zh) => $zh,)*
                }
            }
        }
    };
}

texts! {
    /// Texts of every page: the header, a missing page, what is shared.
    Text {
    AppName => "qrgate", "qrgate";
    SwitchLanguage => "Switch language", "切换语言";
    CouldNotReach => "Could not reach qrgate. Check the connection.", "无法连接 qrgate，请检查网络。";
    ViaQr => "signed in with a QR code", "通过二维码登录";
    ViaPassword => "signed in with a password", "通过密码登录";
    ViaPasskey => "signed in with a passkey", "通过通行密钥登录";
    SignInWithPasskey => "Sign in with a passkey", "使用通行密钥登录";
    Scan => "Scan", "扫码";
    Devices => "Devices", "设备";
    NotFoundTitle => "Page not found", "页面不存在";
    Home => "Go to the sign-in page", "前往登录页";
    }
}

texts! {
    /// Texts of the PC sign-in page.
    PcText {
    PcTitle => "Sign in with your phone", "用手机登录";
    PcInstructions => "Scan this code with your phone, where you are already signed in, and confirm there.", "请用已登录的手机扫描此二维码，并在手机上确认。";
    QrAlt => "QR code for signing in. If you cannot scan it, open this link on your phone:", "登录二维码。如果无法扫描，请在手机上打开此链接：";
    Creating => "Getting a code…", "正在获取二维码…";
    Waiting => "Waiting for your phone.", "等待手机扫描。";
    ExpiresIn => "Code expires in", "二维码将在以下时间后过期";
    Seconds => "s", "秒";
    Scanned => "Scanned. Confirm on your phone.", "已扫描，请在手机上确认。";
    Denied => "Sign-in was denied on the phone.", "手机上已拒绝登录。";
    Cancelled => "This sign-in was cancelled.", "此次登录已取消。";
    Expired => "This code has expired.", "二维码已过期。";
    NewCode => "Get a new code", "获取新二维码";
    SignedInAs => "Signed in as", "已登录为";
    ThisDevice => "This device", "本设备";
    SignOut => "Sign out", "退出登录";
    UsePassword => "Sign in with password instead", "改用密码登录";
    AppTitle => "Sign in to {app} with your phone", "用手机登录 {app}";
    ContinueAs => "Continue as {name}", "以 {name} 的身份继续";
    Cancel => "Cancel", "取消";
    AuthorizationExpired => "This sign-in request has expired. Go back to {app} and start again.", "此登录请求已过期。请返回 {app} 重新开始。";
    ReturningToApp => "Returning to {app}…", "正在返回 {app}…";
    }
}

texts! {
    /// Texts of the page the authorization endpoint shows when it cannot send the person back
    /// to the app (`shared/API.md`, "Authorization").
    ErrorPageText {
    Title => "qrgate cannot sign you in", "qrgate 无法为你登录";
    UnknownClient => "The app that sent you here is not registered with qrgate, so you cannot sign in to it here.", "将你带到这里的应用未在 qrgate 注册，因此无法在此登录该应用。";
    BadRedirectUri => "The app that sent you here asked to be answered at an address it has not registered, so qrgate will not send you there.", "将你带到这里的应用要求返回到一个未注册的地址，因此 qrgate 不会将你转到那里。";
    }
}

/// `text` with its one placeholder (`{app}`, `{name}`) replaced by `value`: the few texts that
/// name an app or a person. Found by its braces, not by a substring search, whose machinery
/// the PC page's bundle would carry for this alone.
pub fn fill(text: &str, value: &str) -> String {
    // Split by characters, never sliced by index: a slice's bounds check would link the
    // formatting of its panic message too.
    match text.split_once('{') {
        Some((before, rest)) => match rest.split_once('}') {
            Some((_, after)) => [before, value, after].concat(),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

texts! {
    /// Texts of the phone pages (and of the PC's password page, which they serve).
    PhoneText {
    UseQr => "Sign in with a QR code instead", "改用二维码登录";
    PcPasswordTitle => "Sign in with your password", "用密码登录";
    Username => "Username", "用户名";
    Password => "Password", "密码";
    DisplayName => "Display name (optional)", "显示名称（可选）";
    SignIn => "Sign in", "登录";
    CreateAccount => "Create account", "创建账号";
    HaveAccount => "I already have an account", "我已有账号";
    NeedAccount => "Create a new account", "创建新账号";
    WrongCredentials => "Wrong username or password.", "用户名或密码错误。";
    TooManyAttempts => "Too many attempts. Wait a few minutes and try again.", "尝试次数过多，请几分钟后再试。";
    NameTaken => "This username is taken.", "该用户名已被占用。";
    CreatedNotSignedIn => "Your account was created, but signing in did not work. Tap Sign in to try again.", "账号已创建，但登录未成功。请点击“登录”重试。";
    InvalidInput => "Check the fields: username 3–32 of a-z 0-9 . _ -, password 8–128 characters.", "请检查：用户名为 3–32 位 a-z 0-9 . _ -，密码为 8–128 个字符。";
    PhoneLoginTitle => "Sign in on this phone", "在此手机上登录";
    ConfirmTitle => "Sign in on another device?", "要在其他设备上登录吗？";
    Checking => "Checking the code…", "正在检查二维码…";
    CheckDetails => "Check that this is the computer in front of you.", "请确认这是你面前的电脑。";
    PcDevice => "Name it gave itself", "它自称的名称";
    PcPlace => "Place", "位置";
    PcNetwork => "Network", "网络";
    PcAge => "Code shown", "二维码显示于";
    SecondsAgo => "s ago", "秒前";
    Unknown => "unknown", "未知";
    WarningTitle => "Careful: this may not be your computer.", "注意：这可能不是你的电脑。";
    WarnCountry => "The computer is in a different country than this phone.", "该电脑与此手机不在同一国家。";
    WarnNetwork => "The computer is on a different network than this phone.", "该电脑与此手机不在同一网络。";
    WarnAdvice => "Only confirm if you are sitting at that computer yourself. Someone may have sent you their code.", "只有当你本人正在使用那台电脑时才确认。可能有人把他们的二维码发给了你。";
    Confirm => "Confirm", "确认登录";
    Deny => "Deny", "拒绝";
    ConfirmedOutcome => "Done. The computer is now signed in to your account.", "完成，该电脑已登录你的账号。";
    DeniedOutcome => "Denied. The computer was not signed in.", "已拒绝，该电脑未登录。";
    MaybeDecided => "This code was already answered, perhaps by your earlier tap. Check the computer.", "此二维码已被处理，可能是你之前的操作已生效。请查看电脑。";
    CodeUsed => "This code was already used or is being used on another phone.", "此二维码已被使用，或正在另一部手机上使用。";
    CodeExpired => "This code has expired. Get a new code on the computer and scan again.", "此二维码已过期。请在电脑上获取新二维码后重新扫描。";
    CodeUnknown => "This code is not valid.", "此二维码无效。";
    ScanAgain => "This screen is out of date. Scan the code again.", "此页面已过期，请重新扫描二维码。";
    ScanTitle => "Scan a sign-in code", "扫描登录二维码";
    StartCamera => "Start camera", "打开相机";
    StopCamera => "Stop camera", "关闭相机";
    CameraUnavailable => "The camera is not available. Type the code or link instead.", "无法使用相机，请改为输入二维码或链接。";
    CodeOrLink => "Code or link shown under the QR code", "二维码下方显示的代码或链接";
    Open => "Open", "打开";
    NotACode => "That is not a qrgate sign-in code.", "这不是 qrgate 登录二维码。";
    DevicesTitle => "Your signed-in devices", "已登录的设备";
    CurrentDevice => "this phone", "本手机";
    SignedInSince => "signed in", "登录于";
    LastSeen => "last seen", "最近活动";
    SignOutDevice => "Sign out this device", "让此设备退出登录";
    NoDevices => "No devices are signed in.", "没有已登录的设备。";
    HistoryTitle => "Recent sign-ins", "最近的登录记录";
    HistoryExplained => "Every sign-in to your account in the last 90 days, newest first, and where it came from.", "过去 90 天内你账号的每次登录（最新的在前）及其来源。";
    NoSignIns => "No sign-ins yet.", "还没有登录记录。";
    HomeLink => "Home", "首页";
    AccountTitle => "This phone is signed in as", "此手机已登录为";
    DevicesAndHistory => "Devices, apps and sign-in history", "设备、应用和登录记录";
    SignOutPhone => "Sign out on this phone", "在此手机上退出登录";
    AppConfirmTitle => "Sign in to {app}?", "要登录 {app} 吗？";
    AppSendsTo => "After you confirm, the computer goes to", "确认后，电脑将前往";
    AppAsks => "The app will know", "该应用将获得";
    ScopeOpenid => "who you are on qrgate (an id for your account)", "你在 qrgate 的身份（账号标识）";
    ScopeProfile => "your name and username", "你的名称和用户名";
    ScopeNothing => "nothing about you but that you signed in", "除你已登录之外，不会获得任何信息";
    AppConfirmedOutcome => "Done. The computer is signing you in to {app}.", "完成，电脑正在为你登录 {app}。";
    PasskeysTitle => "Passkeys", "通行密钥";
    PasskeysExplained => "Sign in with this phone's fingerprint, face or screen lock instead of a password.", "用这部手机的指纹、面容或屏幕锁登录，无需密码。";
    NoPasskeys => "No passkeys yet.", "还没有通行密钥。";
    AddPasskey => "Add a passkey", "添加通行密钥";
    CreateWithPasskey => "Create account with a passkey", "使用通行密钥创建账号";
    LastPasskey => "This passkey is your only way to sign in: add another before removing it.", "这是你唯一的登录方式：请先添加另一个通行密钥再移除它。";
    PasskeyAdded => "added", "添加于";
    RenamePasskey => "Rename", "重命名";
    SaveName => "Save", "保存";
    RemovePasskey => "Remove", "移除";
    PasskeyName => "Passkey name", "通行密钥名称";
    PasskeyNoAnswer => "No passkey was used. Try again, or use your password.", "未使用通行密钥。请重试，或使用密码。";
    PasskeyRefused => "This passkey was not accepted.", "此通行密钥未被接受。";
    AppsTitle => "Connected apps", "已连接的应用";
    AppsExplained => "Apps you signed in to with qrgate. Removing one takes its access away at once.", "你用 qrgate 登录过的应用。移除后会立即收回其访问权限。";
    NoApps => "No apps are connected.", "没有已连接的应用。";
    RemoveAccess => "Remove access", "移除访问权限";
    ConnectedSince => "connected", "连接于";
    LastUsed => "last used", "最近使用";
    ToApp => "to", "登录到";
    EnterDeviceCode => "Enter a code from a TV or terminal", "输入电视或终端上显示的代码";
    DeviceCodeTitle => "Enter the code your device shows", "输入设备上显示的代码";
    DeviceCodeLabel => "Code (8 letters, like BCDF-GHJK)", "代码（8 个字母，如 BCDF-GHJK）";
    DeviceCodeUnknown => "No device shows this code now. Check it and try again.", "目前没有设备显示此代码。请检查后重试。";
    Continue => "Continue", "继续";
    DeviceConfirmTitle => "Sign in on {app}?", "要在 {app} 上登录吗？";
    DeviceCheckCode => "Check that the device shows this same code:", "请确认设备上显示的是同一个代码：";
    DeviceConfirmedOutcome => "Done. {app} is now signed in to your account.", "完成，{app} 已登录你的账号。";
    NewSignIn => "New sign-in:", "新的登录：";
    NotYou => "Not you?", "不是你？";
    SignItOut => "Sign it out", "让它退出登录";
    SignedItOut => "Signed out.", "已退出登录。";
    ReviewApps => "Review connected apps", "查看已连接的应用";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both_languages<T: Localized + std::fmt::Debug>(texts: &[T]) {
        for text in texts {
            assert!(!text.get(Lang::En).is_empty(), "{text:?}");
            assert!(!text.get(Lang::Zh).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        both_languages(Text::ALL);
        both_languages(PcText::ALL);
        both_languages(PhoneText::ALL);
        both_languages(ErrorPageText::ALL);
    }

    fn name_it_in_both_languages<T: Localized + std::fmt::Debug>(texts: &[T]) {
        for text in texts {
            for lang in [Lang::En, Lang::Zh] {
                let filled = fill(text.get(lang), "X");
                assert!(filled.contains('X') && !filled.contains('{'), "{text:?}");
            }
        }
    }

    #[test]
    fn the_texts_that_name_something_name_it_in_both_languages() {
        name_it_in_both_languages(&[
            PcText::AppTitle,
            PcText::ContinueAs,
            PcText::AuthorizationExpired,
            PcText::ReturningToApp,
        ]);
        name_it_in_both_languages(&[
            PhoneText::AppConfirmTitle,
            PhoneText::AppConfirmedOutcome,
            PhoneText::DeviceConfirmTitle,
            PhoneText::DeviceConfirmedOutcome,
        ]);
        assert_eq!(fill("Sign in to {app} now", "Y"), "Sign in to Y now");
        assert_eq!(fill("no placeholder", "Y"), "no placeholder");
    }

    #[test]
    fn browser_preferences() {
        assert_eq!(Lang::from_preference("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_preference("zh-Hans-CN"), Lang::Zh);
        assert_eq!(Lang::from_preference("en-GB"), Lang::En);
        assert_eq!(Lang::from_preference("de"), Lang::En);
    }
}
